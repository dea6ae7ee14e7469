"""axe-core, installed from npm, finds no serious or critical accessibility violation on any page,
for staff and for a customer, in the light and the dark theme."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.e2e.conftest import EVERY_PAGE, Server, login

pytestmark = pytest.mark.e2e

AXE_CORE_VERSION = "4.10.3"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "edgeboard"
# Failing whatever their impact: axe rates these minor or moderate, the product does not.
ALWAYS = {"empty-table-header", "heading-order", "label", "skip-link", "page-has-heading-one"}


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser bundle, installed once into a cache outside the repository."""
    prefix = CACHE / f"axe-core-{AXE_CORE_VERSION}"
    bundle = prefix / "node_modules" / "axe-core" / "axe.min.js"
    if not bundle.exists():
        npm = shutil.which("npm")
        if not npm:
            unavailable("npm is needed to install axe-core")
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
                f"axe-core@{AXE_CORE_VERSION}",
            ],
            check=True,
            timeout=600,
            capture_output=True,
        )
        assert bundle.exists(), "npm installed axe-core without its browser bundle"
    return bundle.read_text()


def axe_violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """The violations axe finds on the page as it stands (injected by the test driver, which
    the page's Content Security Policy does not govern)."""
    page.wait_for_load_state("load")
    # Once the live sockets are open, their first snapshot is not far behind.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[ws-connect]')].every(e => e.dataset.live === 'live')"
    )
    page.evaluate(axe_source)
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
            }));
        }"""
    )


def failing(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in ("serious", "critical") or v["id"] in ALWAYS]


def describe(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: {v['id']} ({v['impact']}): {v['help']}")
            for node in v["nodes"][:8]:
                summary = " ".join((node["summary"] or "").split())
                lines.append(f"    {node['target']}  {summary[:300]}")
    return "\n".join(lines)


@pytest.fixture
def themed_context(browser: Any) -> Iterator[Any]:
    contexts = []

    def open_context(theme: str, width: int = 1280) -> Any:
        context = browser.new_context(color_scheme=theme, viewport={"width": width, "height": 900})
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("username", ["support", "alice"])
def test_no_page_has_a_serious_accessibility_violation(
    themed_context: Any, production_server: Server, axe_source: str, username: str, theme: str
) -> None:
    page = themed_context(theme).new_page()
    page.set_default_timeout(15_000)
    found: dict[str, list[dict[str, Any]]] = {}
    page.goto(production_server.url + "/login/")
    found["/login/ (signed out)"] = failing(axe_violations(page, axe_source))
    login(page, production_server, username)
    page.click(f".theme-switch button[value={theme}]")
    page.wait_for_load_state()
    assert page.get_attribute("html", "data-theme") == theme
    for path in EVERY_PAGE[username]:
        page.goto(production_server.url + path)
        found[path] = failing(axe_violations(page, axe_source))
    found = {where: violations for where, violations in found.items() if violations}
    assert not found, f"axe-core {AXE_CORE_VERSION}, {username}, {theme}:\n{describe(found)}"


def test_the_skip_link_is_the_first_stop_and_lands_on_the_content(
    themed_context: Any, production_server: Server
) -> None:
    page = themed_context("light").new_page()
    login(page, production_server, "alice")
    page.goto(production_server.url + "/apps/acme-web/")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.textContent, location.hash]")
    assert focused == ["Skip to content", ""]
    assert page.evaluate("() => document.activeElement.getBoundingClientRect().height") > 0
    page.keyboard.press("Enter")
    assert page.evaluate("() => location.hash") == "#content"
    assert page.evaluate("() => document.activeElement.id") == "content"


def test_the_axe_check_fails_on_a_page_with_a_violation(
    themed_context: Any, production_server: Server, axe_source: str
) -> None:
    """The check can fail: an image without a name and an unlabeled field are caught."""
    page = themed_context("light").new_page()
    page.goto(production_server.url + "/login/")
    page.evaluate(
        """() => {
            const field = document.createElement('input');
            field.type = 'text';
            document.querySelector('main').append(field);
        }"""
    )
    ids = {v["id"] for v in failing(axe_violations(page, axe_source))}
    assert "label" in ids
