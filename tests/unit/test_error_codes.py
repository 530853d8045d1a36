"""Every error code the product raises has a message in each language the interface speaks:
a Vietnamese source text and, for every other language, a finished catalog entry."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from web.messages import FIELD_NAMES, LANGUAGES, MESSAGES, WORDS, in_language, render
from workflow.domain.codes import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "web" / "translations"
#: The errors whose first argument is a code (workflow.domain.errors).
RAISERS = {"NotFound", "Conflict", "PermissionDenied", "WorkflowError", "Problem"}


def error_codes_by_name() -> dict[str, str]:
    """The value of each `ErrorCode` member by its name; none while the enum does not exist."""
    try:
        codes = importlib.import_module("workflow.domain.codes")
    except ModuleNotFoundError:
        return {}
    return {member.name: str(member.value) for member in codes.ErrorCode}


def code_written(node: ast.expr, enum: dict[str, str]) -> str | None:
    """The code a raise names: a string literal or an `ErrorCode.NAME` attribute."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Attribute) and _named(node.value) == "ErrorCode":
        if node.attr not in enum:
            raise AssertionError(f"ErrorCode has no member {node.attr}")
        return enum[node.attr]
    return None


def _named(node: ast.expr) -> str:
    """The last name of `node` (`ErrorCode` for `ErrorCode` and `codes.ErrorCode`)."""
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def raised_codes() -> dict[str, str]:
    """Each code raised in workflow/, web/ and tasks/, with where it is first."""
    enum = error_codes_by_name()
    found: dict[str, str] = {}
    for folder in ("workflow", "web", "tasks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = _named(node.func)
                if name in RAISERS and node.args:
                    written = node.args[0]
                elif name == "single" and len(node.args) >= 2:  # RuleViolation.single
                    written = node.args[1]
                else:
                    continue
                if (code := code_written(written, enum)) is not None:
                    found.setdefault(code, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def catalog(language: str) -> Catalog:
    """The catalog translating the source texts into `language`, as its translators edit it."""
    with open(CATALOGS / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle)


def untranslated(texts: dict[str, str], translations: Catalog) -> list[str]:
    """The contexts of `texts` (source text by context) with no finished translation."""
    missing = []
    for context, text in texts.items():
        entry = translations.get(text, context=context)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(context)
    return missing


def test_the_scan_finds_the_codes_it_should() -> None:
    codes = raised_codes()
    # One of each kind of raise, so a scan that finds nothing cannot pass the test below.
    assert {"employee_unknown", "extension_taken", "device_link_gone"} <= set(codes)


def test_an_error_code_attribute_reads_as_its_value() -> None:
    enum = {"EMPLOYEE_UNKNOWN": "employee_unknown"}
    written = ast.parse("ErrorCode.EMPLOYEE_UNKNOWN", mode="eval").body
    assert code_written(written, enum) == "employee_unknown"
    qualified = ast.parse("codes.ErrorCode.EMPLOYEE_UNKNOWN", mode="eval").body
    assert code_written(qualified, enum) == "employee_unknown"
    with pytest.raises(AssertionError):
        code_written(ast.parse("ErrorCode.NO_SUCH_CODE", mode="eval").body, enum)


def test_every_raised_code_has_a_vietnamese_source_text() -> None:
    missing = {code: where for code, where in raised_codes().items()
               if not MESSAGES.get(code, "").strip()}
    assert missing == {}


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_raised_code_has_a_finished_translation(language: str) -> None:
    codes = raised_codes()
    missing = untranslated({code: MESSAGES.get(code, "") for code in codes}, catalog(language))
    assert {code: codes[code] for code in missing} == {}


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_message_word_and_field_name_has_a_finished_translation(language: str) -> None:
    translations = catalog(language)
    assert untranslated(MESSAGES, translations) == []
    assert untranslated(WORDS, translations) == []
    assert untranslated(FIELD_NAMES, translations) == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_the_compiled_catalog_gives_each_context_its_own_translation(language: str) -> None:
    translations = catalog(language)
    for table in (MESSAGES, WORDS, FIELD_NAMES):
        compiled = {context: in_language(context, text, language)
                    for context, text in table.items()}
        edited = {context: translations.get(text, context=context).string
                  for context, text in table.items()}
        assert compiled == edited


def test_a_missing_or_fuzzy_translation_is_found() -> None:
    translations = Catalog(locale="en")
    translations.add("Chưa dịch.", "", context="blank")
    translations.add("Chưa xong.", "Not quite", context="unfinished", flags=["fuzzy"])
    translations.add("Xong.", "Done.", context="finished")
    texts = {"absent": "Không có.", "blank": "Chưa dịch.", "unfinished": "Chưa xong.",
             "finished": "Xong.", "other_context": "Xong."}
    assert untranslated(texts, translations) == ["absent", "blank", "unfinished",
                                                 "other_context"]


def test_messages_read_from_the_catalogs_in_each_language() -> None:
    params = {"extension": "5001", "holder": "Nguyễn Văn An"}
    assert render("extension_taken", params, "vi") == (
        "Số máy lẻ 5001 đang được Nguyễn Văn An sử dụng.")
    assert render("extension_taken", params, "en") == "Extension 5001 is in use by Nguyễn Văn An."


def test_states_actions_and_classes_are_named_in_the_message_language() -> None:
    moved = {"action": "approve", "state": "provisioned"}
    assert render("transition_not_allowed", moved, "vi") == (
        "Không thể duyệt khi phiếu đang ở trạng thái hoàn tất.")
    assert render("transition_not_allowed", moved, "en") == "Can't approve when in provisioned."
    classes = {"classes": ["landline", "special"]}
    assert render("class_unknown", classes, "en") == (
        "Unknown number class: domestic landline, special services (1900, 1800, short codes).")
    assert render("class_unknown", classes, "vi") == (
        "Loại số không hợp lệ: cố định trong nước, dịch vụ đặc biệt (1900, 1800, số ngắn).")


def test_two_contexts_share_a_source_text_and_keep_their_own_translation() -> None:
    assert WORDS["complete"] == WORDS["provisioned"]
    assert render("transition_not_allowed", {"action": "complete", "state": "provisioned"},
                  "en") == "Can't complete when in provisioned."


def test_field_names_are_translated_and_a_leading_one_is_capitalised() -> None:
    problem = {"field": "full_name", "characters": "U+000A"}
    assert render("text_unsafe", problem, "vi") == (
        "Họ tên không được chứa ký tự điều khiển hay ký tự xuống dòng (U+000A).")
    assert render("text_unsafe", problem, "en") == (
        "The full name must not contain control characters or line breaks (U+000A).")


def test_an_unknown_code_reads_as_itself_and_other_languages_as_vietnamese() -> None:
    assert render("no_such_code", {}, "en") == "no_such_code"
    assert render("forbidden", {}, "fr") == render("forbidden", {}, "vi")


def literal_codes() -> list[str]:
    """Every raise given its code as a bare string rather than an ErrorCode member."""
    found = []
    for folder in ("workflow", "web", "tasks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = _named(node.func)
                position = 0 if name in RAISERS else 1 if name == "single" else None
                if position is None or len(node.args) <= position:
                    continue
                written = node.args[position]
                if isinstance(written, ast.Constant) and isinstance(written.value, str):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {written.value}")
    return found


def test_no_code_is_raised_as_a_bare_string() -> None:
    assert literal_codes() == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_error_code_is_worded_in_every_language(language: str) -> None:
    codes = [code.value for code in ErrorCode]
    assert [code for code in codes if not MESSAGES.get(code, "").strip()] == []
    assert untranslated({code: MESSAGES[code] for code in codes}, catalog(language)) == []
