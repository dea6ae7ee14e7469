"""Helpers for tests that act as an edge and as a browser's live socket."""

from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.parse
import urllib.request
from typing import Any

_seq = {"n": int(time.time() * 1000)}


def post_report(base_url: str, edge: str, token: str, **hosts: int) -> dict[str, Any]:
    _seq["n"] += 1
    body = {
        "edge": edge,
        "seq": _seq["n"],
        "sent_at": "2026-11-21T10:00:00Z",
        "frontends": [{"hostname": h, "connections": c} for h, c in hosts.items()],
    }
    request = urllib.request.Request(
        base_url + "/ingest/v1/reports",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


class LoopbackCookiePolicy(http.cookiejar.DefaultCookiePolicy):
    """Send Secure cookies over plain HTTP too: a server in production mode on loopback, with
    no TLS in front of it, still marks its cookies Secure."""

    def return_ok_secure(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return True


def session_cookie(base_url: str, username: str, password: str) -> str:
    """Sign in through the login form like a browser; answer the session cookie header."""
    jar = http.cookiejar.CookieJar(policy=LoopbackCookiePolicy())
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base_url + "/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    opener.open(
        urllib.request.Request(
            base_url + "/login/", data=form, headers={"Referer": base_url + "/login/"}
        ),
        timeout=10,
    )
    cookies = {c.name: c.value for c in jar}
    assert "sessionid" in cookies, "login failed"
    return f"sessionid={cookies['sessionid']}"


def count_in(frame: str, element_id: str) -> int | None:
    match = re.search(rf'id="{element_id}" data-count="(\d+)"', frame)
    return int(match.group(1)) if match else None
