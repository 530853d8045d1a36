"""The translation catalogs: complete for every page string, compiled from their sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
METHODS = [("web/**.py", "python"), ("web/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def page_strings() -> set[str]:
    """Every message the code and the templates mark for translation."""
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_page_string_has_an_english_translation() -> None:
    with open(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    translated = {message.id for message in catalog if message.id and message.string}
    missing = sorted(page_strings() - translated)
    assert not missing, f"add these to the English catalog (pybabel update): {missing}"


def _key(text: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    """A message id or translation, plural forms as a tuple."""
    return text if isinstance(text, str) else tuple(text)


@pytest.mark.parametrize("catalog", sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po")),
                         ids=lambda path: f"{path.parts[-3]}/{path.name}")
def test_compiled_catalogs_match_their_sources(catalog: Path) -> None:
    with open(catalog, "rb") as handle:
        source = {_key(message.id): _key(message.string) for message in read_po(handle)
                  if message.id}
    with open(catalog.with_suffix(".mo"), "rb") as handle:
        compiled = {_key(message.id): _key(message.string) for message in read_mo(handle)
                    if message.id}
    assert compiled == source, f"run: pybabel compile -d web/translations -D {catalog.stem}"
