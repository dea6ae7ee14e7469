"""The layout the README promises: each top-level package imports only those below it, and no
product module grows past the size where it should be split by responsibility."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Highest first: a package may import only the packages after it.
LAYERS = ["edgeboard", "pages", "live", "edges", "dashboard", "shared"]
MAX_LINES = 450


def product_modules() -> list[Path]:
    return sorted(
        path
        for package in LAYERS
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """(top-level package, line) of every import in the module, nested ones included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update((alias.name.split(".")[0], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add((node.module.split(".")[0], node.lineno))
    return found


def test_the_layout_covers_every_product_package() -> None:
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages - {"tests", "bench"} == set(LAYERS)


@pytest.mark.parametrize("package", LAYERS)
def test_a_package_imports_only_the_packages_below_it(package: str) -> None:
    allowed = set(LAYERS[LAYERS.index(package) + 1 :])
    forbidden = set(LAYERS) - allowed - {package}
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for path in product_modules()
        if path.relative_to(ROOT).parts[0] == package
        for imported, line in sorted(imported_packages(path))
        if imported in forbidden
    ]
    assert upward == []


def test_the_product_never_imports_the_tests_or_the_benchmarks() -> None:
    leaks = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for path in product_modules()
        for imported, line in sorted(imported_packages(path))
        if imported in ("tests", "bench")
    ]
    assert leaks == []


def test_no_product_module_is_past_the_size_where_it_should_be_split() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in product_modules()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
