"""The official Heroku CLI, installed from npm, drives the Platform API unchanged."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

HEROKU_CLI_VERSION = "11.10.0"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "edgeboard"
# oclif prefixes the lines of errors and warnings with U+203A.
MARK = " \u203a   "
EXPERIMENTAL = (
    f"{MARK}Warning: This feature is experimental and may change or be removed without notice."
)


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def heroku_bin() -> Path:
    """The CLI's entry point, installed once into a cache outside the repository."""
    prefix = CACHE / f"heroku-cli-{HEROKU_CLI_VERSION}"
    entry = prefix / "node_modules" / "heroku" / "bin" / "run.js"
    if entry.exists():
        return entry
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        unavailable("node and npm are needed to install the Heroku CLI")
    prefix.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(prefix),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            f"heroku@{HEROKU_CLI_VERSION}",
        ],
        check=True,
        timeout=600,
        capture_output=True,
    )
    assert entry.exists(), "npm installed the Heroku CLI without its entry point"
    return entry


@pytest.fixture
def heroku(
    heroku_bin: Path, dashboard_server: Server, tmp_path: Path
) -> Iterator[Callable[..., Result]]:
    home = tmp_path / "home"
    (home / ".cache" / "heroku").mkdir(parents=True)
    # The CLI warns about its terms of service once per fresh cache; mark them as seen.
    (home / ".cache" / "heroku" / "terms-of-service").touch()

    def run(*args: str, user: str = "alice") -> Result:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "HEROKU_HOST": dashboard_server.url,
            "HEROKU_API_KEY": dashboard_server.user(user)["api_token"],
            # Delinquency look-ups go to our own server instead of the internet.
            "HEROKU_PARTICLEBOARD_URL": dashboard_server.url,
            "DISABLE_TELEMETRY": "true",
            "HEROKU_SKIP_NEW_VERSION_CHECK": "true",
            "HEROKU_DISABLE_AUTOUPDATE": "true",
            "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
            "NO_COLOR": "1",
            "OCLIF_COLUMNS": "200",
        }
        done = subprocess.run(
            ["node", str(heroku_bin), *args],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    yield run


def test_labs_enable_and_disable_reproduce_the_seed_transcript(
    heroku: Callable[..., Result],
) -> None:
    enabled = heroku("labs:enable", "websockets", "-a", "acme-chat")
    assert enabled.code == 0, enabled.stderr
    assert enabled.stderr.splitlines() == [
        "Enabling websockets for acme-chat... done",
        EXPERIMENTAL,
    ]
    listed = heroku("labs", "-a", "acme-chat")
    assert "[+] websockets" in listed.stdout
    disabled = heroku("labs:disable", "websockets", "-a", "acme-chat")
    assert disabled.code == 0, disabled.stderr
    assert disabled.stderr.splitlines()[0] == "Disabling websockets for acme-chat... done"
    assert "[ ] websockets" in heroku("labs", "-a", "acme-chat").stdout


def test_labs_enable_behind_the_legacy_ssl_edge_fails_with_herokus_message(
    heroku: Callable[..., Result],
) -> None:
    refused = heroku("labs:enable", "websockets", "-a", "acme-web")
    assert refused.code == 2
    lines = refused.stderr.splitlines()
    assert lines[0] == "Enabling websockets for acme-web... !"
    assert lines[1] == f"{MARK}Error: Can not add websockets feature when ssl-endpoint is in use."
    assert f"{MARK}Error ID: invalid_params" in lines
    assert any(line.startswith(f"{MARK}See http") and "/edges/acme-ssl/" in line for line in lines)


def test_labs_lists_user_and_app_features(heroku: Callable[..., Result]) -> None:
    result = heroku("labs", "-a", "acme-api")
    assert result.code == 0, result.stderr
    assert "=== User Features alice@acme.example" in result.stdout
    assert "=== App Features acme-api" in result.stdout
    assert "[+] websockets" in result.stdout
    assert "[ ] two-factor-beta" in result.stdout
    assert "preboot" not in result.stdout  # general features belong to `heroku features`


def test_labs_without_an_app_lists_account_features(heroku: Callable[..., Result]) -> None:
    result = heroku("labs")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("=== User Features alice@acme.example")
    assert "App Features" not in result.stdout


def test_labs_info_shows_the_feature(heroku: Callable[..., Result]) -> None:
    result = heroku("labs:info", "websockets", "-a", "acme-api")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "=== websockets"
    assert "Enabled:     true" in result.stdout
    assert "Docs:        https://devcenter.heroku.com/articles/websockets" in result.stdout


def test_apps_lists_alices_apps_and_teams(heroku: Callable[..., Result]) -> None:
    result = heroku("apps")
    assert result.code == 0, result.stderr
    for name in ("acme-web", "acme-chat", "acme-api"):
        assert name in result.stdout
    assert "globex" not in result.stdout
    team = heroku("apps", "-t", "acme")
    assert team.code == 0, team.stderr
    assert team.stdout.splitlines()[:5] == [
        "=== Apps in team acme",
        "",
        "acme-api",
        "acme-chat",
        "acme-web",
    ]


def test_another_teams_apps_are_not_found(heroku: Callable[..., Result]) -> None:
    result = heroku("apps", "-t", "globex")
    assert result.code == 2
    assert f"{MARK}Error: Couldn't find that team." in result.stderr


def test_apps_info(heroku: Callable[..., Result]) -> None:
    result = heroku("apps:info", "-a", "acme-web")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "=== acme-web"
    assert "Web URL:        https://acme-web.example.net/" in lines
    assert "Region:         us" in lines
    assert "Stack:          cedar-14" in lines
    collaborators = lines.index("Collaborators:  alice@acme.example")
    assert lines[collaborators + 1].strip() == "bob@acme.example"
    assert "Slug Size:" in result.stdout  # a Cedar app (generation), not a Fir one
    assert not any(line.startswith("Pipeline:") for line in lines)
    assert "Error" not in result.stderr and "Warning" not in result.stderr, result.stderr


def test_apps_info_of_another_organizations_app_is_not_found(
    heroku: Callable[..., Result],
) -> None:
    result = heroku("apps:info", "-a", "globex-store")
    assert result.code == 2
    assert f"{MARK}Error: Couldn't find that app." in result.stderr


def test_domains_and_domains_add(heroku: Callable[..., Result]) -> None:
    listed = heroku("domains", "-a", "acme-web")
    assert listed.code == 0, listed.stderr
    assert "=== acme-web Heroku Domain" in listed.stdout
    assert "acme-web.example.net" in listed.stdout
    row = next(line for line in listed.stdout.splitlines() if "www.acme.example" in line)
    assert row.split() == ["www.acme.example", "CNAME", "acme-ssl.edges.example.net"]

    added = heroku("domains:add", "api.acme-cli.example", "-a", "acme-api")
    assert added.code == 0, added.stderr
    assert added.stderr.splitlines()[0] == "Adding api.acme-cli.example to acme-api... done"
    assert (
        "Configure your app's DNS provider to point to the DNS Target gateway.example.net."
        in added.stdout
    )
    assert "api.acme-cli.example" in heroku("domains", "-a", "acme-api").stdout

    taken = heroku("domains:add", "www.acme.example", "-a", "acme-api")
    assert taken.code == 2
    assert f"{MARK}Error: This domain is already in use by an app." in taken.stderr


def table_rows(stdout: str) -> list[list[str]]:
    """The cells of a table the CLI printed, below its header and rule."""
    return [line.split() for line in stdout.splitlines()[2:] if line.strip()]


def test_access_lists_the_apps_collaborators_with_their_permissions(
    heroku: Callable[..., Result],
) -> None:
    result = heroku("access", "-a", "acme-web")
    assert result.code == 0, result.stderr
    rows = {row[0]: row[1:] for row in table_rows(result.stdout)}
    assert rows["alice@acme.example"] == ["owner", "manage,", "operate,", "view"]
    assert rows["bob@acme.example"] == ["member", "manage,", "operate,", "view"]
    assert "carol@globex.example" not in result.stdout


def test_access_to_another_organizations_app_is_not_found(heroku: Callable[..., Result]) -> None:
    result = heroku("access", "-a", "globex-store")
    assert result.code == 2
    assert f"{MARK}Error: Couldn't find that app." in result.stderr


def test_members_and_teams_show_the_roles(heroku: Callable[..., Result]) -> None:
    members = heroku("members", "-t", "acme")
    assert members.code == 0, members.stderr
    rows = table_rows(members.stdout)
    assert rows == [["alice@acme.example", "owner"], ["bob@acme.example", "member"]]
    teams = heroku("teams")
    assert teams.code == 0, teams.stderr
    assert table_rows(teams.stdout) == [["acme", "owner"]]
    hidden = heroku("members", "-t", "globex")
    assert hidden.code == 2
    assert f"{MARK}Error: Couldn't find that team." in hidden.stderr


def test_apps_info_for_the_shell(heroku: Callable[..., Result]) -> None:
    result = heroku("apps:info", "-a", "acme-web", "-s")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert not any(line.startswith("create_status=") for line in lines)
    assert "collaborators=alice@acme.example,bob@acme.example" in lines
    assert "web_url=https://acme-web.example.net/" in lines
    assert "stack=cedar-14" in lines
    assert "undefined" not in result.stdout


def test_auth_whoami_names_the_tokens_account(heroku: Callable[..., Result]) -> None:
    result = heroku("auth:whoami", user="bob")
    assert result.code == 0, result.stderr
    assert result.stdout == "bob@acme.example\n"


def test_members_add_set_and_remove_go_through_the_membership_service(
    heroku: Callable[..., Result], dashboard_server: Server
) -> None:
    added = heroku("members:add", "carol@globex.example", "-r", "member", "-t", "acme")
    assert added.code == 0, added.stderr
    assert "Adding carol@globex.example to acme as member... done" in added.stderr
    assert ["carol@globex.example", "member"] in table_rows(heroku("members", "-t", "acme").stdout)
    promoted = heroku("members:set", "carol@globex.example", "-r", "owner", "-t", "acme")
    assert promoted.code == 0, promoted.stderr
    refused = heroku("members:add", "bob@acme.example", "-r", "owner", "-t", "acme", user="bob")
    assert refused.code == 2
    assert f"{MARK}Error: Only the organization's owners may change its members." in (
        refused.stderr
    )
    removed = heroku("members:remove", "carol@globex.example", "-t", "acme")
    assert removed.code == 0, removed.stderr
    assert "Removing carol@globex.example from acme... done" in removed.stderr
    assert "carol@globex.example" not in heroku("members", "-t", "acme").stdout
    audit = dashboard_server.manage("shell", "--no-imports", "-c", AUDITED_MEMBERSHIP_CHANGES)
    assert audit.split() == ["membership.set", "membership.set", "membership.delete"]


def test_the_last_owner_cannot_leave(heroku: Callable[..., Result]) -> None:
    result = heroku("members:remove", "alice@acme.example", "-t", "acme")
    assert result.code == 2
    assert "is the last owner of acme" in result.stderr


AUDITED_MEMBERSHIP_CHANGES = (
    "from dashboard.models import AuditEvent\n"
    "for e in AuditEvent.objects.filter(source='api', action__startswith='membership.')"
    ".order_by('pk'):\n"
    "    print(e.action)"
)


def test_access_add_and_remove_point_to_the_organizations_members(
    heroku: Callable[..., Result],
) -> None:
    added = heroku("access:add", "carol@globex.example", "-a", "acme-web")
    assert added.code == 2
    assert (
        f"{MARK}Error: The collaborators of acme-web are the members of acme: add people to acme"
        in added.stderr
    )
    removed = heroku("access:remove", "bob@acme.example", "-a", "acme-web")
    assert removed.code == 2
    assert "heroku members:remove EMAIL -t acme" in removed.stderr
    assert "bob@acme.example" in heroku("access", "-a", "acme-web").stdout
