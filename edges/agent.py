"""The edge agent: runs beside HAProxy on an edge host, keeps HAProxy's configuration in step
with the dashboard and reports HAProxy's live connections back.

Every interval it
- asks the dashboard for the edge's configuration (If-None-Match: unchanged configs cost a 304);
  a new one is written beside the live file, checked with ``haproxy -c``, renamed over it and
  HAProxy reloaded (through the master socket, so established connections stay on the old
  worker until they close); a config HAProxy refuses is left unapplied and reported;
- reads ``show stat`` from HAProxy's stats socket and posts a report: connections per hostname
  (the ``host_`` and ``ws_`` back-ends of the rendered config), WebSockets, and per back-end
  server, DOWN servers reported dead.

Neither the dashboard nor HAProxy being away stops it: calls to the dashboard back off up to
30 s, HAProxy keeps serving the last good configuration, and a missing stats socket skips the
report (an edge that reports nothing turns stale on the dashboard; zeros would be a lie).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shlex
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_BACKOFF = 30.0
HTTP_TIMEOUT = 10.0


class SocketError(OSError):
    """HAProxy did not answer on a UNIX socket."""


def socket_command(path: str, command: str, *, timeout: float = 5.0) -> str:
    """Send one command to an HAProxy CLI socket (stats or master) and read the whole answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
            sock.sendall(command.encode() + b"\n")
            # The master CLI answers, then waits for more unless told there is none.
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except OSError as failed:
            raise SocketError(f"{path}: {failed}") from failed
    return b"".join(chunks).decode(errors="replace")


def parse_stat(text: str) -> list[dict[str, str]]:
    """``show stat`` CSV: a header line starting with "# ", then one row per proxy and server."""
    text = text.lstrip()
    if not text.startswith("# pxname,"):
        raise SocketError(f"unexpected answer to show stat: {text[:80]!r}")
    return list(csv.DictReader(io.StringIO(text[2:])))


def old_worker_pids(master_answer: str) -> list[int]:
    """Worker pids under "# old workers" in the master's ``show proc``: after a reload they still
    carry the connections established before it."""
    pids, section = [], ""
    for line in master_answer.splitlines():
        if line.startswith("#"):
            section = line.strip("# ").lower()
            continue
        fields = line.split()
        if section == "old workers" and fields and fields[0].isdigit():
            pids.append(int(fields[0]))
    return pids


def _int(value: str | None) -> int:
    try:
        return max(int(value or 0), 0)
    except ValueError:
        return 0


def frontends_from_stat(
    current: list[dict[str, str]], older: list[list[dict[str, str]]] = ()
) -> list[dict[str, Any]]:
    """The report's frontends: each hostname's connections (HTTP plus WebSocket back-ends), its
    WebSockets, and its servers with their connections and state. Server states come from the
    current worker; counts add up every worker still holding connections."""
    hosts: dict[str, dict[str, Any]] = {}

    def host(name: str) -> dict[str, Any]:
        return hosts.setdefault(
            name, {"hostname": name, "connections": 0, "websockets": 0, "backends": {}}
        )

    for index, rows in enumerate([current, *older]):
        for row in rows:
            proxy, server = row.get("pxname", ""), row.get("svname", "")
            if proxy.startswith("host_"):
                hostname, websocket = proxy[5:], False
            elif proxy.startswith("ws_"):
                hostname, websocket = proxy[3:], True
            else:
                continue
            entry = host(hostname)
            sessions = _int(row.get("scur"))
            if server == "BACKEND":
                entry["connections"] += sessions
                if websocket:
                    entry["websockets"] += sessions
            elif server != "FRONTEND":
                address = row.get("addr") or server
                backend = entry["backends"].get(address)
                if backend is None:
                    if index:
                        continue  # a server the current configuration no longer has
                    backend = entry["backends"][address] = {
                        "address": address,
                        "connections": 0,
                        "state": "up",
                    }
                backend["connections"] += sessions
                status = row.get("status", "")
                if index == 0 and status.startswith(("DOWN", "MAINT")):
                    backend["state"] = "dead"
    return [
        {**entry, "backends": list(entry["backends"].values())}
        for _, entry in sorted(hosts.items())
    ]


@dataclass
class Backoff:
    """Doubling delays after failures, from the interval up to MAX_BACKOFF."""

    interval: float
    failures: int = 0
    not_before: float = 0.0

    def ready(self, now: float) -> bool:
        return now >= self.not_before

    def failed(self, now: float, retry_after: float | None = None) -> float:
        self.failures += 1
        delay = min(self.interval * 2**self.failures, MAX_BACKOFF)
        if retry_after is not None:
            delay = max(delay, min(retry_after, 300.0))
        self.not_before = now + delay
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self.not_before = 0.0


class DashboardError(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Agent:
    edge: str
    url: str
    token: str
    config_path: Path
    stats_socket: str
    master_socket: str | None = None
    reload_command: str | None = None
    haproxy_bin: str = "haproxy"
    bind: str | None = None
    interval: float = 1.0
    log: Callable[[str], None] = print
    etag: str | None = None
    seq: int = 0
    config_backoff: Backoff = field(init=False)
    report_backoff: Backoff = field(init=False)

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        if urllib.parse.urlsplit(self.url).scheme not in ("http", "https"):
            raise ValueError("The dashboard URL must start with http:// or https://.")
        self.config_backoff = Backoff(self.interval)
        self.report_backoff = Backoff(self.interval)

    # -- talking to the dashboard -------------------------------------------------------------

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None, **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked at start
            self.url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "User-Agent": "edgeboard-edge-agent",
                **({"Content-Type": "application/json"} if data is not None else {}),
                **headers,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            if error.code == 304:
                return 304, dict(error.headers), b""
            retry = error.headers.get("Retry-After")
            detail = error.read()[:300].decode(errors="replace")
            raise DashboardError(
                f"{method} {path}: HTTP {error.code} {detail}",
                float(retry) if retry and retry.isdigit() else None,
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DashboardError(f"{method} {path}: dashboard unreachable ({reason})") from None

    def _config_path(self) -> str:
        query = {"format": "haproxy", "stats_socket": self.stats_socket}
        if self.bind:
            query["bind"] = self.bind
        name = urllib.parse.quote(self.edge)
        return f"/ingest/v1/edges/{name}/config?{urllib.parse.urlencode(query)}"

    # -- configuration ------------------------------------------------------------------------

    def poll_config(self) -> str:
        """Fetch the configuration; apply it when it changed. Answers what happened."""
        headers = {"If-None-Match": self.etag} if self.etag else {}
        status, response_headers, body = self._request("GET", self._config_path(), **headers)
        if status == 304:
            return "unchanged"
        etag = response_headers.get("ETag", "")
        text = body.decode()
        current = self.config_path.read_text() if self.config_path.exists() else None
        if text == current:
            self.etag = etag
            self._status("applied", etag, "The running configuration is current.")
            return "current"
        ok, output = self._check(text)
        if not ok:
            self.etag = etag  # do not fetch and check the same refused config every second
            self.log(f"configuration {etag} refused by haproxy -c, not applied:\n{output}")
            self._status("rejected", etag, output)
            return "rejected"
        write_atomically(self.config_path, text)
        reloaded = self._reload()
        self.etag = etag
        self.log(f"configuration {etag} applied; {reloaded}")
        self._status("applied", etag, reloaded)
        return "applied"

    def _check(self, text: str) -> tuple[bool, str]:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.config_path.name}.check.", dir=self.config_path.parent
        )
        try:
            with os.fdopen(fd, "w") as out:
                out.write(text)
            result = subprocess.run(  # noqa: S603 - the operator's own haproxy binary
                [self.haproxy_bin, "-c", "-q", "-f", tmp],
                capture_output=True,
                text=True,
                timeout=30,
            )
            output = (result.stdout + result.stderr).replace(tmp, str(self.config_path)).strip()
            return result.returncode == 0, output
        finally:
            Path(tmp).unlink(missing_ok=True)

    def _reload(self) -> str:
        if self.master_socket:
            socket_command(self.master_socket, "reload", timeout=10)
            return "HAProxy reloaded through its master socket"
        if self.reload_command:
            result = subprocess.run(  # noqa: S603 - the operator's own reload command
                shlex.split(self.reload_command), capture_output=True, text=True, timeout=60
            )
            if result.returncode:
                raise SocketError(f"{self.reload_command!r} failed: {result.stderr.strip()}")
            return f"HAProxy reloaded with {self.reload_command!r}"
        return "no reload configured"

    def _status(self, status: str, etag: str, message: str) -> None:
        name = urllib.parse.quote(self.edge)
        self._request(
            "POST",
            f"/ingest/v1/edges/{name}/config-status",
            {"status": status, "etag": etag, "message": message},
        )

    # -- reports ------------------------------------------------------------------------------

    def collect(self) -> list[dict[str, Any]]:
        current = parse_stat(socket_command(self.stats_socket, "show stat"))
        older = []
        if self.master_socket:
            try:
                pids = old_worker_pids(socket_command(self.master_socket, "show proc"))
                older = [
                    parse_stat(socket_command(self.master_socket, f"@!{pid} show stat"))
                    for pid in pids
                ]
            except SocketError as failed:
                self.log(f"could not read old workers' connections: {failed}")
        return frontends_from_stat(current, older)

    def next_seq(self) -> int:
        self.seq = max(self.seq + 1, time.time_ns() // 1000)
        return self.seq

    def post_report(self, frontends: list[dict[str, Any]]) -> dict[str, Any]:
        report = {
            "edge": self.edge,
            "seq": self.next_seq(),
            "sent_at": dt.datetime.now(dt.UTC).isoformat(),
            "frontends": frontends,
        }
        _, _, body = self._request("POST", "/ingest/v1/reports", report)
        answer = json.loads(body or b"{}")
        if answer.get("ignored") and isinstance(answer.get("last_seq"), int):
            self.seq = answer["last_seq"]  # the dashboard has seen later numbers: catch up
        return answer

    # -- the loop -----------------------------------------------------------------------------

    def step(self) -> None:
        """One interval's work: the configuration, then a report. Never raises for a peer that
        is away; it logs, backs off, and tries again later."""
        now = time.monotonic()
        if self.config_backoff.ready(now):
            try:
                self.poll_config()
                self.config_backoff.succeeded()
            except (DashboardError, SocketError, subprocess.SubprocessError, OSError) as failed:
                retry = getattr(failed, "retry_after", None)
                delay = self.config_backoff.failed(now, retry)
                self.log(f"configuration: {failed}; next try in {delay:.0f} s")
        try:
            frontends = self.collect()
        except SocketError as failed:
            self.log(f"HAProxy is not answering ({failed}); no report this time")
            return
        if self.report_backoff.ready(now):
            try:
                self.post_report(frontends)
                self.report_backoff.succeeded()
            except DashboardError as failed:
                delay = self.report_backoff.failed(now, failed.retry_after)
                self.log(f"report: {failed}; next try in {delay:.0f} s")

    def run(self, stop: Callable[[], bool] = lambda: False) -> None:
        while not stop():
            started = time.monotonic()
            self.step()
            time.sleep(max(self.interval - (time.monotonic() - started), 0.05))


def write_atomically(path: Path, body: str) -> None:
    """Write beside the target, then rename over it: readers see the old or the new file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
