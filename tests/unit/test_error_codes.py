"""Every error code the product raises has a message in each language the interface speaks."""

from __future__ import annotations

import ast
from pathlib import Path

from web.messages import LANGUAGES, MESSAGES
from workflow.domain.codes import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
#: The errors whose first argument is a code (workflow.domain.errors).
RAISERS = {"NotFound", "Conflict", "PermissionDenied", "WorkflowError", "Problem"}


def raised_codes() -> dict[str, str]:
    """Each code written as a literal in workflow/, web/ and tasks/, with where it is first."""
    found: dict[str, str] = {}
    for folder in ("workflow", "web", "tasks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = (node.func.attr if isinstance(node.func, ast.Attribute)
                        else getattr(node.func, "id", ""))
                if name in RAISERS and node.args:
                    code = node.args[0]
                elif name == "single" and len(node.args) >= 2:  # RuleViolation.single
                    code = node.args[1]
                else:
                    continue
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    value = code.value
                elif (isinstance(code, ast.Attribute) and isinstance(code.value, ast.Name)
                      and code.value.id == "ErrorCode"):
                    value = ErrorCode[code.attr].value
                else:
                    continue
                found.setdefault(value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_scan_finds_the_codes_it_should() -> None:
    codes = raised_codes()
    # One of each kind of raise, so a scan that finds nothing cannot pass the test below.
    assert {"employee_unknown", "extension_taken", "device_link_gone"} <= set(codes)


def test_every_raised_code_has_a_message_in_every_language() -> None:
    codes = raised_codes()
    missing = {language: {code: where for code, where in codes.items()
                          if code not in MESSAGES[language]}
               for language in LANGUAGES}
    assert missing == {language: {} for language in LANGUAGES}
