"""The access sweep: every page, htmx request, API endpoint, ingest endpoint and WebSocket route,
as every persona, against their own object, another organization's object and a missing one.

Another organization's object must answer exactly like a missing one (same status, same
redirect, same error body once the names are taken out), and a refused request must leave every
row of every table as it was. The routes come from the URL confs themselves, so a new route fails
`test_every_route_is_swept` until it is added to ROUTES (or to EXEMPT, with a reason).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Max
from django.http import HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from django.utils.crypto import get_random_string

from dashboard.api.serializers import stable_id
from dashboard.models import ApiToken, App, Domain, Organization
from dashboard.services.apps import backend_add
from dashboard.services.tokens import api_token_create, api_token_mark_used
from edgeboard.asgi import application
from edgeboard.middleware import API_URLCONF
from edges.dns import DnsAnswer
from edges.live_state import live_state
from edges.models import Edge, EdgeUpgrade
from edges.services.edges import edge_ingest_token_rotate
from edges.services.upgrades import upgrade_request
from live.routing import websocket_urlpatterns
from tests.conftest import World
from tests.factories import make_ssl_edge

ACCEPT = "application/vnd.heroku+json; version=3"
ORIGIN = settings.DASHBOARD_ORIGINS[0]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Which object each URL parameter names, by its place in the route: `name` is an app under
# apps/, an organization under orgs/ and an edge under edges/.
KWARG_NOUNS = {
    "orgs/<name>": "organization",
    "teams/<id_or_name>": "organization",
    "ws/live/orgs/<name>": "organization",
    "ws/live/org-pages/<name>": "organization",
    "apps/<name>": "app",
    "apps/<app>": "app",
    "apps/<id_or_name>": "app",
    "teams/apps/<app>": "app",
    "users/<email_or_id>": "person",
    "teams/<id_or_name>/members/<email_or_id>": "member",
    "apps/<app>/collaborators/<email_or_id>": "member",
    "teams/apps/<app>/collaborators/<email_or_id>": "member",
    "ws/live/apps/<name>": "app",
    "apps/<app>/domains/<id_or_hostname>": "domain",
    "apps/<app>/backends/<address>": "backend",
    "apps/<app>/features/<id_or_name>": "app feature",
    "account/features/<id_or_name>": "account feature",
    "account/tokens/<pk>": "token",
    "edges/<name>": "edge",
    "ingest/v1/edges/<name>": "edge",
    "ws/live/edges/<name>": "edge",
    "edges/<name>/upgrades/<pk>": "upgrade",
    "edges/<name>/upgrades/<pk>/<action>": "upgrade step",
}
# Objects that belong to one person: even support staff see only their own.
PERSONAL_NOUNS = {"token"}
# Objects the Platform API also finds by UUID.
UUID_NOUNS = {"app", "organization", "domain", "person"}

Values = Mapping[str, str]


@dataclass(frozen=True)
class Call:
    """One request a route accepts. Its body is a form or JSON object, or a function of the
    target's values when it names an object itself."""

    method: str = "GET"
    htmx: str = ""
    body: dict[str, Any] | Callable[[Values], dict[str, Any]] = field(default_factory=dict)
    query: str = ""
    staff_only: bool = False
    # What customers get on their own objects from a staff-only call: 403 where they see the
    # object (back-ends on their app's page), else 404.
    customer_status: int = 404

    @property
    def label(self) -> str:
        return self.method + (f" htmx#{self.htmx}" if self.htmx else "")

    def body_for(self, values: Values) -> dict[str, Any]:
        return self.body(values) if callable(self.body) else self.body


@dataclass(frozen=True)
class Sweep:
    calls: tuple[Call, ...]
    # Objects named in the request body rather than in the URL.
    body_nouns: tuple[str, ...] = ()
    # Authenticated by an edge's ingest token rather than by a person.
    edge_token: bool = False
    # Objects the request may name without being refused for it (an edge reports hostnames
    # it does not carry as unknown): another organization's must still answer like a missing one.
    unknown_taken: tuple[str, ...] = ()


def with_htmx(call: Call, target: str) -> tuple[Call, Call]:
    """The request as a browser sends it without JavaScript, and as htmx sends it."""
    return call, replace(call, htmx=target)


GET = Call()
STEP = "2030-01-02T03:00"
TOGGLE = {"toggle": "http-request-id:on", "reason": "access sweep"}
ADD_BACKEND = Call("POST", body={"address": "10.3.0.1:5000"}, staff_only=True, customer_status=403)
REMOVE_BACKEND = replace(ADD_BACKEND, body=lambda values: {"address": values["backend"]})
INGEST_REPORT = Sweep(
    (
        Call(
            "POST",
            body=lambda values: {
                "edge": values["edge"],
                "seq": 1,
                "sent_at": "2026-11-21T10:00:00Z",
                "frontends": [{"hostname": values["domain"], "connections": 7}],
            },
        ),
    ),
    body_nouns=("edge", "domain"),
    edge_token=True,
    unknown_taken=("domain",),
)
INGEST_CONFIG = Sweep((GET,), edge_token=True)
INGEST_CONFIG_STATUS = Sweep(
    (Call("POST", body={"status": "applied", "etag": '"sweep"'}),), edge_token=True
)

ROUTES: dict[str, Sweep] = {
    # Pages and their htmx partials
    "page /": Sweep(with_htmx(Call(query="q=a"), "results")),
    "page /orgs/<name>/": Sweep((GET,)),
    "page /apps/<name>/": Sweep(
        (GET, Call(htmx="app-charts"), Call(htmx="backends-panel"), Call(htmx="features-panel"))
    ),
    "page /apps/<name>/features/": Sweep(with_htmx(Call("POST", body=TOGGLE), "features-panel")),
    "page /apps/<name>/backends/": Sweep(with_htmx(ADD_BACKEND, "backends-panel")),
    "page /apps/<name>/backends/remove/": Sweep(
        with_htmx(REMOVE_BACKEND, "backends-panel"), body_nouns=("backend",)
    ),
    "page /apps/<name>/backends/restore/": Sweep(
        with_htmx(replace(ADD_BACKEND, body={"removal": "1"}), "backends-panel")
    ),
    "page /apps/<name>/domains/": Sweep(
        with_htmx(Call("POST", body={"hostname": "sweep.example.org"}), "domains-panel")
    ),
    "page /apps/<name>/domains/remove/": Sweep(
        with_htmx(
            Call("POST", body=lambda values: {"hostname": values["domain"], "confirmed": "yes"}),
            "domains-panel",
        ),
        body_nouns=("domain",),
    ),
    "page /apps/<name>/domains/restore/": Sweep(
        with_htmx(Call("POST", body={"removal": "1"}), "domains-panel")
    ),
    "page /apps/<name>/dns-check/": Sweep((Call("POST"),)),
    "page /apps/<name>/websocket-test/": Sweep((GET,)),
    "page /support/": Sweep(with_htmx(Call(query="q=example", staff_only=True), "support-results")),
    "page /audit/": Sweep(with_htmx(GET, "audit-results")),
    "page /audit/export.csv": Sweep((GET, Call(query="organization=acme&sort=who"))),
    "page /account/tokens/": Sweep((GET, Call("POST", body={"label": "access sweep"}))),
    "page /account/tokens/<pk>/revoke/": Sweep((Call("POST", body={"confirmed": "yes"}),)),
    "page /account/tokens/<pk>/restore/": Sweep((Call("POST"),)),
    "page /account/theme/": Sweep((Call("POST", body={"theme": "dark"}),)),
    "page /edges/<name>/": Sweep((GET,)),
    "page /edges/<name>/config/": Sweep((Call(staff_only=True),)),
    "page /edges/<name>/upgrades/": Sweep((Call("POST", body={"note": "access sweep"}),)),
    "page /edges/<name>/upgrades/<pk>/<action>/": Sweep(
        (Call("POST", body={"scheduled_for": STEP}, staff_only=True),)
    ),
    "page /upgrades/": Sweep((Call(staff_only=True),)),
    # Platform API
    "api /account": Sweep((GET,)),
    "api /account/rate-limits": Sweep((GET,)),
    "api /account/features": Sweep((GET,)),
    "api /account/features/<id_or_name>": Sweep((GET, Call("PATCH", body={"enabled": True}))),
    "api /apps": Sweep((GET,)),
    "api /users/<email_or_id>/apps": Sweep((GET,)),
    "api /apps/<id_or_name>": Sweep((GET,)),
    "api /apps/<app>/addons": Sweep((GET,)),
    "api /apps/<app>/dynos": Sweep((GET,)),
    "api /apps/<app>/sni-endpoints": Sweep((GET,)),
    "api /apps/<app>/collaborators": Sweep((GET, Call("POST", body={"user": "bob@example.org"}))),
    "api /apps/<app>/collaborators/<email_or_id>": Sweep((GET, Call("PATCH"), Call("DELETE"))),
    "api /apps/<app>/pipeline-couplings": Sweep((GET,)),
    "api /apps/<app>/websocket-readiness": Sweep((GET,)),
    "api /apps/<app>/connections": Sweep((GET,)),
    "api /apps/<app>/features": Sweep((GET,)),
    "api /apps/<app>/features/<id_or_name>": Sweep(
        (GET, Call("PATCH", body={"enabled": True, "reason": "access sweep"}))
    ),
    "api /apps/<app>/backends": Sweep((GET, ADD_BACKEND)),
    "api /apps/<app>/backends/<address>": Sweep((GET, replace(ADD_BACKEND, method="DELETE"))),
    "api /apps/<app>/domains": Sweep((GET, Call("POST", body={"hostname": "sweep.example.com"}))),
    "api /apps/<app>/domains/<id_or_hostname>": Sweep((GET, Call("DELETE"))),
    "api /edges": Sweep((GET,)),
    "api /edges/<name>": Sweep((GET,)),
    "api /edges/<name>/upgrades": Sweep((GET, Call("POST", body={"note": "access sweep"}))),
    "api /edges/<name>/upgrades/<pk>": Sweep(
        (
            GET,
            Call(
                "PATCH",
                body={"state": "scheduled", "scheduled_for": STEP + ":00Z"},
                staff_only=True,
                customer_status=403,
            ),
        )
    ),
    "api /teams": Sweep((GET,)),
    "api /teams/<id_or_name>": Sweep((GET,)),
    "api /teams/<id_or_name>/apps": Sweep((GET,)),
    "api /teams/<id_or_name>/features": Sweep((GET,)),
    "api /teams/<id_or_name>/members": Sweep(
        (
            GET,
            Call("PUT", body={"email": "carol@example.org", "role": "member"}),
            Call("POST", body={"email": "carol@example.org", "role": "member"}),
            Call("PATCH", body={"email": "bob@example.org", "role": "owner"}),
        )
    ),
    "api /teams/<id_or_name>/members/<email_or_id>": Sweep((Call("DELETE"),)),
    "api /teams/permissions": Sweep((GET,)),
    "api /teams/apps/<app>": Sweep((GET,)),
    "api /teams/apps/<app>/collaborators": Sweep(
        (GET, Call("POST", body={"user": "bob@example.org"}))
    ),
    "api /teams/apps/<app>/collaborators/<email_or_id>": Sweep(
        (GET, Call("PATCH"), Call("DELETE"))
    ),
    "api /ingest/v1/reports": INGEST_REPORT,
    "api /ingest/v1/edges/<name>/config": INGEST_CONFIG,
    "api /ingest/v1/edges/<name>/config-status": INGEST_CONFIG_STATUS,
    # WebSockets: a handshake refused is what a 404 is to a page
    "ws /ws/echo/": Sweep((GET,)),
    "ws /ws/live/overview/": Sweep((Call(staff_only=True),)),
    "ws /ws/live/upgrades/": Sweep((Call(staff_only=True),)),
    "ws /ws/live/support/": Sweep((Call(staff_only=True),)),
    "ws /ws/live/apps/<name>/": Sweep((GET,)),
    "ws /ws/live/edges/<name>/": Sweep((GET,)),
    "ws /ws/live/orgs/<name>/": Sweep((GET,)),
    "ws /ws/live/org-pages/<name>/": Sweep((GET,)),
}

EXEMPT = {
    "page /healthz": "public liveness probe that reads nothing",
    "page /login/": "the public sign-in form; its throttling has its own tests",
    "page /logout/": "ends only the caller's own session",
    "page /admin/": "superusers only; the admin site has its own tests",
    "ws /": "any other socket path: refused at the handshake (test_websocket_security)",
    "api /": "any other API path: JSON not_found, reads nothing (test_api's unknown endpoints)",
}


# The routes, read from the URL confs


PARAMETER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")
LITERAL_CHOICES = re.compile(r"\(\?P<\w+>([a-z0-9|-]+)\)")
NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^()]*\)")


@dataclass(frozen=True)
class Route:
    channel: str  # "page", "api" or "ws"
    pattern: str  # as ResolverMatch.route spells it
    shape: str  # the path with each parameter as <name>, regex alternatives spelled out

    @property
    def key(self) -> str:
        return f"{self.channel} /{self.shape}"

    @property
    def places(self) -> list[tuple[str, str]]:
        """Each parameter with its place: the route up to and including it."""
        return [(m.group(1), self.shape[: m.end()]) for m in PARAMETER.finditer(self.shape)]

    def path(self, values: Values) -> str:
        path = self.shape
        for kwarg, place in self.places:
            path = path.replace(f"<{kwarg}>", values[KWARG_NOUNS[place]], 1)
        return "/" + path


def shapes(pattern: str) -> list[str]:
    """A route's paths with parameters as <name>; a regex's literal alternatives become one
    path each, so `(?P<kind>apps|edges)/` is swept as apps/ and as edges/."""
    if not pattern.startswith("^") and "(?P<" not in pattern:
        return [PARAMETER.sub(r"<\1>", pattern)]
    choices = LITERAL_CHOICES.search(pattern)
    if choices:
        head, tail = pattern[: choices.start()], pattern[choices.end() :]
        return [
            shape
            for choice in choices.group(1).split("|")
            for shape in shapes(head + choice + tail)
        ]
    shape = NAMED_GROUP.sub(r"<\1>", pattern).removeprefix("^").removesuffix("$")
    if re.search(r"[\\^$()\[\]{}*+?|]", shape):
        raise ValueError(f"The sweep cannot read the route {pattern!r}: teach shapes() its syntax.")
    return [shape]


def walk(channel: str, patterns: list[Any], prefix: str = "") -> Iterator[Route]:
    for entry in patterns:
        pattern = prefix + str(entry.pattern)
        # An include without a prefix of its own names no path to exempt: always read it.
        exempt = str(entry.pattern) and f"{channel} /{shapes(pattern)[0]}" in EXEMPT
        if isinstance(entry, URLResolver) and not exempt:
            yield from walk(channel, entry.url_patterns, pattern)
            continue
        for shape in shapes(pattern):
            yield Route(channel, pattern, shape)


def discover() -> dict[str, Route]:
    routes = [
        *walk("page", get_resolver().url_patterns),
        *walk("api", get_resolver(API_URLCONF).url_patterns),
        *walk("ws", websocket_urlpatterns),
    ]
    return {route.key: route for route in routes}


FOUND = discover()


def nouns_of(route: Route, sweep: Sweep) -> list[str]:
    return [KWARG_NOUNS[place] for _, place in route.places] + list(sweep.body_nouns)


# Who asks, and what they should be told


USERS = ("anonymous", "alice", "bob", "carol", "support")
EDGE_CALLERS = ("anonymous", "alice", "acme agent", "globex agent")
HOME = {"carol": "globex", "globex agent": "globex"}


@dataclass(frozen=True)
class Target:
    name: str
    kind: str  # "none", "own", "missing", "other" or "nested other"
    values: dict[str, str]
    pair: str = ""  # the missing target an "other" target must answer like
    nested: str = ""  # the object swapped under one's own parent


def targets(
    nouns: list[str],
    own: Values,
    other: Values,
    missing: Values,
    ids: Mapping[str, Values] | None = None,
) -> list[Target]:
    """Own, missing and another organization's object; for nested objects also another
    organization's (or a missing) child under one's own parent; on the API also by UUID."""
    if not nouns:
        return [Target("none", "none", {})]

    def pick(tree: Values) -> dict[str, str]:
        return {noun: tree[noun] for noun in nouns}

    spellings = [("", other, missing)]
    if ids:
        spellings.append((", by id", {**other, **ids["other"]}, {**missing, **ids["missing"]}))
    result = [Target("own", "own", pick(own))]
    for suffix, foreign, absent in spellings:
        result.append(Target(f"missing{suffix}", "missing", pick(absent)))
        if pick(foreign) != pick(own):
            result.append(Target(f"other{suffix}", "other", pick(foreign), f"missing{suffix}"))
        for index, noun in enumerate(nouns[1:], start=1):
            if absent[noun] == own[noun] or (suffix and noun not in UUID_NOUNS):
                continue
            parents = ", ".join(nouns[:index])
            name = f"own {parents}, missing {noun}{suffix}"
            result.append(Target(name, "missing", {**pick(own), noun: absent[noun]}, "", noun))
            if foreign[noun] != own[noun]:
                values = {**pick(own), noun: foreign[noun]}
                other_name = f"own {parents}, other {noun}{suffix}"
                result.append(Target(other_name, "nested other", values, name, noun))
    return result


@dataclass(frozen=True)
class Answer:
    status: int
    location: str = ""
    body: str = ""

    @property
    def refused(self) -> bool:
        return 400 <= self.status < 500 or self.location.startswith(reverse("login"))

    def __str__(self) -> str:
        text = str(self.status)
        if self.location:
            text += f" to {self.location}"
        if self.body and len(self.body) < 200:
            text += f" {self.body!r}"
        return text


# A page's CSRF token is masked afresh for every answer: it says nothing about the target.
MASKED_CSRF_TOKEN = re.compile(rf"[{re.escape(CSRF_ALLOWED_CHARS)}]{{{2 * CSRF_SECRET_LENGTH}}}")


def normalized(text: str, values: Values) -> str:
    """The text with the target's names and ids taken out, so two targets' answers compare."""
    text = MASKED_CSRF_TOKEN.sub("<csrf token>", text)
    for noun, value in sorted(values.items(), key=lambda item: -len(item[1])):
        # A number is an id where a path, an element id or an attribute holds it (not in
        # `initial-scale=1`, which every page has).
        before = r"(?<=[/#\"])" if value.isdigit() else r"(?<![\w.-])"
        text = re.sub(rf"{before}{re.escape(value)}(?![\w-]|\.\w)", f"<{noun}>", text)
    return text


def http_answer(response: HttpResponse, body: bytes, values: Values) -> Answer:
    return Answer(
        response.status_code,
        normalized(response.get("Location", ""), values),
        normalized(body.decode(errors="replace"), values),
    )


@dataclass(frozen=True)
class Outcome:
    target: Target
    url: str
    answer: Answer
    changed: bool = False


def is_refusal(answer: Answer, channel: str, sweep: Sweep, persona: str) -> bool:
    """Whether this is the answer the persona gets for something it may not see."""
    if channel == "ws":
        return answer.status == 403
    if sweep.edge_token:
        return answer.status == (403 if persona.endswith(" agent") else 401)
    if persona == "anonymous":
        if channel == "page":
            return answer.status == 302 and answer.location.startswith(reverse("login") + "?next=")
        return answer.status == 401
    return answer.status == 404


def judge(
    channel: str, sweep: Sweep, call: Call, persona: str, outcomes: dict[str, Outcome]
) -> list[str]:
    """What is wrong with one persona's answers to one call, a line per target."""
    signed_in = persona.endswith(" agent") if sweep.edge_token else persona != "anonymous"
    allowed = signed_in and (persona == "support" or not call.staff_only)
    nouns = set().union(*(outcome.target.values for outcome in outcomes.values()))
    sees_other = persona == "support" and not nouns & PERSONAL_NOUNS

    def customer_refused(answer: Answer) -> bool:
        if channel == "ws":
            return answer.status == 403
        if call.customer_status == 404:
            return (
                answer == outcomes["missing"].answer
                if "missing" in outcomes
                else answer.status == 404
            )
        return answer.status == call.customer_status

    def verdict(target: Target, answer: Answer) -> str:
        refused = is_refusal(answer, channel, sweep, persona)
        if target.kind == "missing":
            return "" if refused or target.nested in sweep.unknown_taken else "instead of refusing"
        if target.kind in ("other", "nested other"):
            pair = outcomes[target.pair].answer
            if target.kind == "other" and sees_other:
                return (
                    "like a missing one, yet staff see every organization" if answer == pair else ""
                )
            return "" if answer == pair else f"but {target.pair} answered {pair}"
        if not signed_in:
            return "" if refused else "instead of refusing"
        if not allowed:
            return "" if customer_refused(answer) else f"instead of {call.customer_status}"
        if target.kind == "own":
            # Past the lookup, whatever it answers then: its own object is found.
            found = answer != outcomes["missing"].answer and answer.status < 500
            return "" if found else "like a missing one"
        return "" if not (answer.refused or answer.status >= 500) else "to someone it is for"

    problems = []
    for outcome in outcomes.values():
        target, answer = outcome.target, outcome.answer
        where = f"{persona} {call.label} {outcome.url} ({target.name})"
        if trouble := verdict(target, answer):
            problems.append(f"{where} answered {answer} {trouble}")
        if outcome.changed:
            problems.append(f"{where} refused with {answer.status}, yet changed the database")
    return problems


# The world the sweep runs in


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values_list())
        for model in django_apps.get_models()
        if not model._meta.proxy
    }


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# One client for the whole sweep: each new client's handler loads every middleware again, and
# WhiteNoise indexes the static files each time. Cookies are set afresh for every request.
CLIENT = Client(enforce_csrf_checks=True, raise_request_exception=False)


def session_key(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@dataclass
class SweepWorld:
    trees: dict[str, dict[str, str]]  # "acme", "globex" and "missing": noun -> value
    ids: dict[str, dict[str, str]]  # the same, by UUID
    api_tokens: dict[str, str]
    token_pks: dict[str, str]
    edge_tokens: dict[str, str]
    sessions: dict[str, str]
    csrf: str = field(
        default_factory=lambda: get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
    )
    base: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def targets(self, route: Route, sweep: Sweep, persona: str) -> list[Target]:
        home = HOME.get(persona, "acme")
        away = "acme" if home == "globex" else "globex"
        own, other = dict(self.trees[home]), dict(self.trees[away])
        owner = {"acme": "alice", "globex": "carol"}
        own["token"] = self.token_pks.get(persona, self.token_pks[owner[home]])
        other["token"] = self.token_pks[owner[away]]
        # The API also finds objects named in its URL by UUID.
        by_uuid = UUID_NOUNS & {KWARG_NOUNS[place] for _, place in route.places}
        ids = None
        if route.channel == "api" and by_uuid:
            ids = {
                "other": {noun: self.ids[away][noun] for noun in by_uuid},
                "missing": {noun: self.ids["missing"][noun] for noun in by_uuid},
            }
        return targets(nouns_of(route, sweep), own, other, self.trees["missing"], ids)

    def request(
        self, route: Route, sweep: Sweep, call: Call, persona: str, values: Values
    ) -> HttpResponse:
        path = route.path(values) + (f"?{call.query}" if call.query else "")
        body = call.body_for(values)
        headers = {}
        CLIENT.cookies.clear()
        if sweep.edge_token:
            # Edge agents have no session; an API token is not an edge token.
            secret = self.edge_tokens.get(persona) or self.api_tokens.get(persona)
            if secret:
                headers["Authorization"] = f"Bearer {secret}"
        elif route.channel == "api":
            if persona in self.api_tokens:
                headers["Authorization"] = f"Bearer {self.api_tokens[persona]}"
        else:
            if persona in self.sessions:
                CLIENT.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[persona]
            CLIENT.cookies[settings.CSRF_COOKIE_NAME] = self.csrf
            headers["X-CSRFToken"] = self.csrf
            if call.htmx:
                headers.update({"HX-Request": "true", "HX-Target": call.htmx})
        if route.channel == "api":
            headers["Accept"] = ACCEPT
        if sweep.edge_token or route.channel == "api":
            data, content_type = (json.dumps(body) if body else ""), "application/json"
        else:
            data, content_type = urlencode(body), "application/x-www-form-urlencoded"
        return CLIENT.generic(call.method, path, data, content_type=content_type, headers=headers)

    def send(self, route: Route, sweep: Sweep, call: Call, persona: str, target: Target) -> Outcome:
        """One request in a savepoint that is rolled back, so every request meets the same
        world. A refused request that ran a write statement is held against every row."""
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            response = self.request(route, sweep, call, persona, target.values)
            # Read inside the savepoint: a streamed answer (the audit's CSV) queries as it goes.
            body = response.getvalue()
            answer = http_answer(response, body, target.values)
            wrote = any(q["sql"].lstrip().upper().startswith(WRITES) for q in queries)
            changed = answer.refused and wrote and snapshot() != self.base
            transaction.set_rollback(True)
        assert b"CSRF verification failed" not in body, "the sweep lost its token"
        assert response.resolver_match.route == route.pattern, (
            f"{route.path(target.values)} reached {response.resolver_match.route}, "
            f"not {route.pattern}"
        )
        return Outcome(target, route.path(target.values), answer, changed)

    async def knock(self, route: Route, persona: str, target: Target) -> Outcome:
        """A handshake; the consumer reads the database from its own thread, so every refused
        one is held against every row."""
        headers = [(b"origin", ORIGIN.encode())]
        if persona in self.sessions:
            cookie = f"{settings.SESSION_COOKIE_NAME}={self.sessions[persona]}"
            headers.append((b"cookie", cookie.encode()))
        path = route.path(target.values)
        communicator = WebsocketCommunicator(application, path, headers=headers)
        try:
            connected, code = await communicator.connect(timeout=5)
        finally:
            await communicator.disconnect()
        answer = Answer(101) if connected else Answer(403, body=f"closed with {code}")
        changed = not connected and await database_sync_to_async(snapshot)() != self.base
        return Outcome(target, path, answer, changed)


@pytest.fixture(autouse=True)
def sweep_settings(settings: Any) -> None:
    """Budgets no sweep can use up (they live in a cache other tests share), and a cheap
    password hash: the production one costs a quarter of a second per person per test."""
    settings.API_RATE_LIMIT_PER_MINUTE = 10**9
    settings.INGEST_RATE_LIMIT_PER_MINUTE = 10**9
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sweep_world(
    world: World,
    alice: User,
    bob: User,
    carol: User,
    support: User,
    monkeypatch: pytest.MonkeyPatch,
) -> SweepWorld:
    """Both organizations with an app, a custom domain, a back-end and an edge with an open
    upgrade; an API token for each person and an ingest token for each organization's edge."""
    monkeypatch.setattr(
        "edges.services.dns_checks.lookup_many",
        lambda domains: {d.pk: DnsAnswer(Domain.DnsStatus.OK) for d in domains},
    )
    globex_edge = make_ssl_edge("globex-legacy", org=world.globex)
    upgrades = {
        "acme": upgrade_request(edge=world.acme_ssl, actor=alice, source="cli"),
        "globex": upgrade_request(edge=globex_edge, actor=carol, source="cli"),
    }
    backend_add(app=world.acme_web, address="10.1.0.1:5000", actor=support, source="cli")
    backend_add(app=world.globex_store, address="10.2.0.1:5000", actor=support, source="cli")
    users = {"alice": alice, "bob": bob, "carol": carol, "support": support}
    api_tokens, token_pks = {}, {}
    for persona, user in users.items():
        token, raw = api_token_create(user=user, label="sweep", actor=user, source="cli")
        # Mark it used now, so the requests below do not record a use the snapshot would see.
        api_token_mark_used(token=token)
        api_tokens[persona], token_pks[persona] = raw, str(token.pk)
    edge_tokens = {
        "acme agent": edge_ingest_token_rotate(edge=world.acme_ssl, actor=None, source="cli"),
        "globex agent": edge_ingest_token_rotate(edge=globex_edge, actor=None, source="cli"),
    }

    def tree(
        org: Organization, app: App, edge: Edge, domain: str, backend: str, person: str, member: str
    ) -> dict[str, str]:
        return {
            "organization": org.name,
            "app": app.name,
            "domain": domain,
            "backend": backend,
            "edge": edge.name,
            "upgrade": str(upgrades[org.name].pk),
            "upgrade step": "schedule",
            "app feature": "http-request-id",
            "account feature": "two-factor-beta",
            "person": person,
            "member": member,
        }

    beyond = {
        model: str((model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1000)
        for model in (ApiToken, EdgeUpgrade)
    }
    trees = {
        "acme": tree(
            world.acme,
            world.acme_web,
            world.acme_ssl,
            "www.acme.example",
            "10.1.0.1:5000",
            person=alice.email,
            member=bob.email,
        ),
        "globex": tree(
            world.globex,
            world.globex_store,
            globex_edge,
            "shop.globex.example",
            "10.2.0.1:5000",
            person=carol.email,
            member=carol.email,
        ),
        "missing": {
            "organization": "initech",
            "app": "no-such-app",
            "domain": "www.initech.example",
            "backend": "10.9.9.9:9",
            "edge": "no-such-edge",
            "upgrade": beyond[EdgeUpgrade],
            "upgrade step": "schedule",
            "app feature": "no-such-feature",
            "account feature": "no-such-feature",
            "token": beyond[ApiToken],
            "person": "nobody@example.org",
            "member": "nobody@example.org",
        },
    }
    ids = {
        org.name: {
            "organization": str(org.uuid),
            "app": str(app.uuid),
            "domain": str(Domain.objects.get(hostname=hostname).uuid),
            "person": stable_id("user", person.pk),
        }
        for org, app, hostname, person in [
            (world.acme, world.acme_web, "www.acme.example", alice),
            (world.globex, world.globex_store, "shop.globex.example", carol),
        ]
    }
    ids["missing"] = {noun: str(uuid.uuid4()) for noun in UUID_NOUNS}
    sessions = {persona: session_key(user) for persona, user in users.items()}
    result = SweepWorld(trees, ids, api_tokens, token_pks, edge_tokens, sessions)
    result.base = snapshot()
    return result


# The tests


def cases(channel: str) -> Iterator[Any]:
    for key, sweep in ROUTES.items():
        if key in FOUND and FOUND[key].channel == channel:
            for call in sweep.calls:
                yield pytest.param(key, call, id=f"{key} {call.label}")


def test_every_route_is_swept() -> None:
    unswept = sorted(set(FOUND) - set(ROUTES) - set(EXEMPT))
    assert not unswept, f"Add these routes to ROUTES (or to EXEMPT, with a reason): {unswept}"
    gone = sorted((set(ROUTES) | set(EXEMPT)) - set(FOUND))
    assert not gone, f"These routes no longer exist: {gone}"
    assert not set(ROUTES) & set(EXEMPT)
    assert all(reason.strip() for reason in EXEMPT.values())


def test_every_route_parameter_names_an_object_the_sweep_knows() -> None:
    known = set(KWARG_NOUNS.values())
    unmapped = [
        f"{key}: {place}"
        for key, route in FOUND.items()
        if key not in EXEMPT
        for _, place in route.places
        if place not in KWARG_NOUNS
    ]
    assert not unmapped, f"Map these parameters in KWARG_NOUNS: {unmapped}"
    assert all(set(sweep.body_nouns) <= known for sweep in ROUTES.values())
    assert {"page", "api", "ws"} == {route.channel for route in FOUND.values()}


@pytest.mark.django_db
def test_routes_refuse_every_method_the_sweep_does_not_send(sweep_world: SweepWorld) -> None:
    """So a method added to a view cannot slip past the sweep."""
    unexpected = []
    for key, sweep in ROUTES.items():
        route = FOUND[key]
        if route.channel == "ws":
            continue
        persona = "acme agent" if sweep.edge_token else "support"
        own = sweep_world.targets(route, sweep, persona)[0]
        swept = {call.method for call in sweep.calls}
        for method in sorted(set(METHODS) - swept):
            outcome = sweep_world.send(route, sweep, Call(method), persona, own)
            if outcome.answer.status != 405:
                unexpected.append(f"{method} {outcome.url}: {outcome.answer.status}")
    assert not unexpected, f"Sweep these methods too: {unexpected}"


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "call"), [*cases("page"), *cases("api")])
def test_other_organizations_objects_answer_like_missing_ones_and_refusals_change_nothing(
    sweep_world: SweepWorld, key: str, call: Call
) -> None:
    route, sweep = FOUND[key], ROUTES[key]
    problems = []
    for persona in EDGE_CALLERS if sweep.edge_token else USERS:
        outcomes = {
            target.name: sweep_world.send(route, sweep, call, persona, target)
            for target in sweep_world.targets(route, sweep, persona)
        }
        problems += judge(route.channel, sweep, call, persona, outcomes)
    assert not problems, "\n".join(problems)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("key", "call"), [*cases("ws")])
async def test_sockets_refuse_other_organizations_objects_like_missing_ones(
    sweep_world: SweepWorld, key: str, call: Call
) -> None:
    route, sweep = FOUND[key], ROUTES[key]
    problems = []
    for persona in USERS:
        outcomes = {
            target.name: await sweep_world.knock(route, persona, target)
            for target in sweep_world.targets(route, sweep, persona)
        }
        problems += judge("ws", sweep, call, persona, outcomes)
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_an_edge_reporting_another_organizations_hostname_feeds_none_of_its_numbers(
    sweep_world: SweepWorld,
) -> None:
    report = INGEST_REPORT.calls[0].body_for({"edge": "acme-ssl", "domain": "shop.globex.example"})
    response = Client().post(
        "/ingest/v1/reports",
        data=json.dumps(report),
        content_type="application/json",
        headers={"Authorization": f"Bearer {sweep_world.edge_tokens['acme agent']}"},
    )
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "unknown_hostnames": ["shop.globex.example"]}
    globex_store = App.objects.get(name="globex-store")
    assert not any(
        globex_store.pk in edge_state.by_app for edge_state in live_state().states_of().values()
    )
