"""Rules for the text people type: one-line names and codes, and email addresses.

A one-line value may end up in an email header (a name in a Subject, an address in To), in
a CSV export or a log line, so it must not carry line breaks of any kind (CR, LF, NEL,
U+2028, U+2029), other control characters, or invisible format characters that hide or
reorder text (bidirectional overrides, zero-width spaces, a byte order mark).
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Problem, RuleViolation

#: Unicode categories never allowed in a one-line value: controls (C0, C1 with NEL),
#: format characters, surrogates, line and paragraph separators.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: Format characters that writing needs (zero-width non-joiner and joiner, e.g. in Persian
#: or Indic names and in emoji sequences); they cannot break or reorder a line.
ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})
#: Longest email address the tables keep (RFC 5321's limit).
MAX_EMAIL = 254


def is_unsafe(char: str) -> bool:
    """Whether `char` may not appear in a one-line value."""
    return unicodedata.category(char) in FORBIDDEN_CATEGORIES and char not in ALLOWED_FORMAT


def unsafe_characters(value: str) -> list[str]:
    """The distinct unsafe characters of `value` as code points ("U+200B"), first seen first."""
    found = dict.fromkeys(f"U+{ord(char):04X}" for char in value if is_unsafe(char))
    return list(found)


def folded(value: str) -> str:
    """`value` on one line: every unsafe character becomes a space, runs of spaces one."""
    return " ".join("".join(" " if is_unsafe(char) else char for char in value).split())


def one_line(value: str, field: str, max_length: int, required: bool = True) -> str:
    """`value` trimmed and composed (NFC), or RuleViolation on `field` saying what is wrong.

    Surrounding white space (line breaks included) is dropped; inside, unsafe characters
    are refused (`text_unsafe`), as are an empty value when `required` (`text_required`)
    and one longer than `max_length` (`text_too_long`).
    """
    _refuse(field, one_line_problem(value, max_length, required))
    return _clean(value)


def one_line_problem(value: str, max_length: int, required: bool = True) -> Problem | None:
    """What is wrong with a one-line value, naming no field yet, if anything."""
    clean = _clean(value)
    if unsafe := unsafe_characters(clean):
        return Problem(ErrorCode.TEXT_UNSAFE, {"characters": ", ".join(unsafe)})
    if required and not clean:
        return Problem(ErrorCode.TEXT_REQUIRED, {"max": max_length})
    if len(clean) > max_length:
        return Problem(ErrorCode.TEXT_TOO_LONG, {"max": max_length})
    return None


def email_address(value: str, field: str = "email", required: bool = False) -> str | None:
    """The normalised form of an email address (None when empty and not required).

    Checked by `email-validator` without asking DNS: syntax, length, no special-use domain.
    The part before the @ must be ASCII so that every mail server can take it.
    """
    _refuse(field, email_problem(value, required))
    clean = _clean(value)
    return _validated(clean) if clean else None


def email_problem(value: str, required: bool = False) -> Problem | None:
    """What is wrong with an email address, naming no field yet, if anything."""
    clean = _clean(value)
    if unsafe := unsafe_characters(clean):
        return Problem(ErrorCode.TEXT_UNSAFE, {"characters": ", ".join(unsafe)})
    if not clean:
        return Problem(ErrorCode.EMAIL_INVALID) if required else None
    try:
        _validated(clean)
    except EmailNotValidError:
        return Problem(ErrorCode.EMAIL_INVALID)
    return None


def for_field(problem: Problem, field: str) -> Problem:
    """`problem` naming the field it is about (messages say which one)."""
    return Problem(problem.code, {**problem.params, "field": field})


def _refuse(field: str, problem: Problem | None) -> None:
    """Raise the problem, if any, as a RuleViolation on `field`."""
    if problem is not None:
        raise RuleViolation({field: [for_field(problem, field)]})


def _clean(value: str) -> str:
    """`value` without surrounding white space, composed (NFC) as Vietnamese is compared."""
    return unicodedata.normalize("NFC", value.strip())


def _validated(value: str) -> str:
    """`email-validator`'s normalised address, or EmailNotValidError."""
    address = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    if len(address.normalized) > MAX_EMAIL:
        raise EmailNotValidError("The email address is too long.")
    return str(address.normalized)
