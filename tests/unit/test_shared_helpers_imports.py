"""Shared test helpers live in tests/support: no module imports a test module, and the
benchmarks reach the tests' helpers through tests.support only."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def modules_imported_by(source: str, package: tuple[str, ...]) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every module `source` in `package` imports; relative imports made
    absolute, and `from package import name` counted as importing `package.name` too (the name
    may be a module)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def imports_in(folders: tuple[str, ...]) -> Iterator[tuple[str, int, str]]:
    """(file, line, module) of every import in the Python files under the repository's folders."""
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT)
            package = relative.with_suffix("").parts[:-1]
            for line, module in modules_imported_by(path.read_text(encoding="utf-8"), package):
                yield str(relative), line, module


def is_test_module(module: str) -> bool:
    """Whether the dotted name is a pytest test module (test_*.py)."""
    return module.rsplit(".", 1)[-1].startswith("test_")


def test_no_module_imports_a_test_module() -> None:
    offences = [f"{path}:{line} imports {module}"
                for path, line, module in imports_in(("tests", "bench")) if is_test_module(module)]
    assert offences == [], "move the shared helper to tests/support:\n" + "\n".join(offences)


def test_the_benchmarks_use_the_tests_helpers_through_tests_support_only() -> None:
    offences = [f"{path}:{line} imports {module}"
                for path, line, module in imports_in(("bench",))
                if module.startswith("tests.") and module.split(".")[1] != "support"]
    assert offences == [], "\n".join(offences)


def test_every_way_of_importing_a_test_module_is_seen() -> None:
    source = ("from tests.ui.test_pages import csrf_token\nfrom tests.pbx import test_nat\n"
              "import tests.unit.test_rules\nfrom .test_machine import MACHINE\n"
              "from tests.support.pages import sign_in\n")
    seen = {module for _, module in modules_imported_by(source, ("tests", "unit"))
            if is_test_module(module)}
    assert seen == {"tests.pbx.test_nat", "tests.ui.test_pages", "tests.unit.test_machine",
                    "tests.unit.test_rules"}
