"""Helpers for the fault tests: a Redis of their own to stop and freeze, sockets that behave as
the browser's live script does, and a signed-in HTTP session for forms and the API."""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import unavailable
from tests.e2e.conftest import free_port
from tests.e2e.live_client import LoopbackCookiePolicy, count_in, post_report

REDIS_SERVER = "/usr/bin/redis-server"
# The close codes after which the browser's htmx WebSocket extension connects again.
RETRIED_CLOSE_CODES = {1006, 1012, 1013}


def wait_for(condition: Callable[[], Any], timeout: float, what: str, seen: Any = None) -> Any:
    """Poll until `condition` holds; on a timeout, say what was awaited and what `seen` shows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; seen: {seen!r}")


def report_gateway_answer(server: Any, hostname: str, count: int) -> tuple[int, str | None]:
    """Like report_gateway, but any answer: (status, Retry-After)."""
    try:
        report_gateway(server, hostname, count)
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After")
    return 202, None


def report_gateway(server: Any, hostname: str, count: int) -> bool:
    """The demo gateway reports `count` connections for one hostname; answer whether it took."""
    answer = post_report(server.url, "gateway", server.edge_token("gateway"), **{hostname: count})
    return answer.get("accepted") == 1


class RedisServer:
    """A Redis that keeps nothing on disk, like the platform's: a restart comes back empty."""

    def __init__(self, workdir: Path) -> None:
        if not Path(REDIS_SERVER).exists():
            unavailable(f"{REDIS_SERVER} is missing (apt-get install redis-server)")
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--dir", str(self.workdir)]
        with (self.workdir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._answers, 10, "redis-server to accept connections")

    def _answers(self) -> bool:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", self.port), 1) as s,
        ):
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


class Session:
    """A signed-in user's cookies, for the dashboard's forms (with their CSRF token)."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar(policy=LoopbackCookiePolicy())
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        page = self.get("/login/")
        self.post("/login/", {"username": username, "password": password}, page=page)
        assert "sessionid" in self.cookies(), f"{username} could not sign in"

    def cookies(self) -> dict[str, str]:
        return {c.name: c.value for c in self.jar}

    def cookie_header(self) -> str:
        return f"sessionid={self.cookies()['sessionid']}"

    def get(self, path: str, timeout: float = 20) -> str:
        with self.opener.open(self.base_url + path, timeout=timeout) as response:
            return response.read().decode()

    def post(self, path: str, form: dict[str, str], *, page: str = "", timeout: float = 20) -> int:
        """Post a form as the browser would, with the CSRF token of the page it came from."""
        page = page or self.get(path.rsplit("/", 2)[0] + "/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        data = {**form, "csrfmiddlewaretoken": token.group(1) if token else ""}
        request = urllib.request.Request(
            self.base_url + path,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Referer": self.base_url + path},
        )
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


def api(base_url: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        base_url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={
            "Accept": "application/vnd.heroku+json; version=3",
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@dataclass
class Watcher:
    latest: int | None = None
    history: list[int] = field(default_factory=list)
    closes: list[int | None] = field(default_factory=list)
    connects: int = 0


class LiveSockets:
    """N sockets on one live topic, each reconnecting after a retried close code as the browser
    does (with a shorter, fixed delay), recording the number it last showed."""

    def __init__(
        self,
        base_url: str,
        path: str,
        cookie: str,
        element_id: str,
        count: int,
        *,
        like_htmx: bool = False,
    ) -> None:
        # like_htmx: first attempts spread over a second, then htmx's full-jitter backoff
        # (a random delay up to 1 s, 2 s, 4 s ... 64 s), reset once a socket is open.
        self.like_htmx = like_htmx
        self.url = base_url.replace("http", "ws", 1) + path
        self.origin = base_url
        self.cookie = cookie
        self.element_id = element_id
        self.watchers = [Watcher() for _ in range(count)]
        self.loop = asyncio.new_event_loop()
        self.stopping: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LiveSockets:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.stopping is not None:
            self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(timeout=30)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
            # Connections' own keepalive tasks end with them.
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        finally:
            self.loop.close()

    async def _main(self) -> None:
        self.stopping = asyncio.Event()
        tasks = [asyncio.create_task(self._watch(w)) for w in self.watchers]
        await self.stopping.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _watch(self, watcher: Watcher) -> None:
        from websockets.asyncio.client import connect

        retries = 0
        if self.like_htmx:
            await asyncio.sleep(random.random())
        while True:
            opened = False
            try:
                async with connect(
                    self.url,
                    origin=self.origin,
                    additional_headers={"Cookie": self.cookie},
                    open_timeout=10,
                ) as ws:
                    opened = True
                    retries = 0
                    watcher.connects += 1
                    try:
                        async for frame in ws:
                            count = count_in(str(frame), self.element_id)
                            if count is not None:
                                watcher.latest = count
                                watcher.history.append(count)
                    finally:
                        watcher.closes.append(ws.close_code)
                    if ws.close_code not in RETRIED_CLOSE_CODES:
                        return
            except asyncio.CancelledError:
                raise
            except Exception:
                if not opened:
                    watcher.closes.append(1006)  # the handshake failed: the browser sees 1006
            if self.like_htmx:
                await asyncio.sleep(random.random() * 2 ** min(retries, 6))
                retries += 1
            else:
                await asyncio.sleep(0.5)

    def __repr__(self) -> str:
        shown = [w.history for w in self.watchers]
        closes = [w.closes for w in self.watchers]
        return f"<{len(self.watchers)} sockets that showed {shown} and closed with {closes}>"

    def all_show(self, count: int) -> bool:
        return all(w.latest == count for w in self.watchers)

    def all_closed_with_a_retried_code(self, since: list[int]) -> bool:
        """Every socket closed at least once since `since` (closes counted per socket before)."""
        return all(
            any(c in RETRIED_CLOSE_CODES for c in w.closes[n:])
            for w, n in zip(self.watchers, since, strict=True)
        )

    def close_counts(self) -> list[int]:
        return [len(w.closes) for w in self.watchers]


class PostgresServer:
    """A PostgreSQL cluster of the test's own, so restarting it leaves the machine's alone."""

    BIN = Path("/usr/lib/postgresql/15/bin")

    def __init__(self) -> None:
        initdb = shutil.which("initdb") or str(self.BIN / "initdb")
        if not Path(initdb).exists():
            unavailable("initdb is missing (apt-get install postgresql)")
        self.bin = Path(initdb).resolve().parent
        self.port = free_port()
        # PostgreSQL will not run as root: as root, run it as the postgres user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.dir = Path(tempfile.mkdtemp(prefix="edgeboard-pg-"))
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        argv = [*self.as_user, str(self.bin / tool), *args]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode:
            raise RuntimeError(f"{tool} failed:\n{result.stdout}\n{result.stderr}")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off"
        self._run(
            "pg_ctl", action, "-D", str(self.dir / "data"), "-w", "-t", "60",
            "-l", str(self.dir / "postgres.log"), "-o", options, *extra,
        )  # fmt: skip

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def halt(self) -> None:
        self._pg_ctl("stop", "-m", "fast")

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
