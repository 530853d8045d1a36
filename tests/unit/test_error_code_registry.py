"""Error codes are one vocabulary: the ErrorCode enum, worded in every language."""

from __future__ import annotations

import ast
from pathlib import Path

from web.messages import LANGUAGES, MESSAGES
from workflow.domain.codes import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
#: The errors whose first argument is a code, and RuleViolation.single, whose second is.
RAISERS = {"NotFound", "Conflict", "PermissionDenied", "WorkflowError", "Problem"}


def literal_codes() -> list[str]:
    """Every place a raise is given a code written as a bare string instead of an ErrorCode."""
    found = []
    for folder in ("workflow", "web", "tasks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = (node.func.attr if isinstance(node.func, ast.Attribute)
                        else getattr(node.func, "id", ""))
                position = 0 if name in RAISERS else 1 if name == "single" else None
                if position is None or len(node.args) <= position:
                    continue
                code = node.args[position]
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {code.value}")
    return found


def test_no_code_is_raised_as_a_bare_string() -> None:
    assert literal_codes() == []


def test_every_error_code_is_worded_in_every_language() -> None:
    missing = {language: sorted(code.value for code in ErrorCode
                                if code.value not in MESSAGES[language])
               for language in LANGUAGES}
    assert missing == {language: [] for language in LANGUAGES}
