"""Vietnamese text for people: folding for search, and the dictionary sort order.

Search folds both the stored name and what is typed: no tone marks or letter modifiers,
đ as d, lower case, single spaces ("Đặng Thị Ngọc" and "dang thi ngoc" fold the same).

The sort key orders as Vietnamese dictionaries do, by comparing levels in turn:
1. letters, in the Vietnamese alphabet a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư
   v x y (the foreign letters f j w z in their Latin places), a space before any letter,
   punctuation then digits before letters, other scripts after;
2. tones, syllable by syllable: ngang, huyền, hỏi, ngã, sắc, nặng;
3. case, lower before upper.
So "Kế toán" < "Kinh doanh" (e < i decides before the tone is looked at), "Phạm" < "Phan"
(m < n), "Dung" < "Đức" < "Em", and "Ma" < "Mà" < "Mả" < "Mã" < "Má" < "Mạ".
The key is a plain string compared code point by code point (binary/"C" collation), so
both databases order alike with an ordinary index.
"""

from __future__ import annotations

import functools
import string
import unicodedata
from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")

#: Combining tone marks in their order, after ngang (no mark, 0).
_TONES = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}
#: A base letter with a combining modifier that makes another letter of the alphabet.
_MODIFIED = {("a", "\u0306"): "ă", ("a", "\u0302"): "â", ("e", "\u0302"): "ê",
             ("o", "\u0302"): "ô", ("o", "\u031b"): "ơ", ("u", "\u031b"): "ư"}
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
#: Primary weight of every character with a place of its own, as one ASCII character
#: from "!" up; a space comes first so that a shorter word sorts before a longer one.
_WEIGHTS = {char: chr(0x21 + rank) for rank, char in
            enumerate(" " + string.punctuation + string.digits + _ALPHABET)}
#: Separates the levels of a key: below every primary weight.
_LEVEL = " "


def fold(value: str) -> str:
    """`value` as search compares it: no diacritics, đ as d, lower case, single spaces."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(unicodedata.normalize("NFC", bare).lower().split())


@functools.lru_cache(maxsize=8192)
def sort_key(value: str) -> str:
    """A key ordering `value` in Vietnamese dictionary order (see the module).

    Cached: lists sort the same branch, department and profile names on every page.
    """
    primary, tones, cases = [], [], []
    for base, marks in _letters(" ".join(value.split())):
        letter, tone = base.lower(), "0"
        for mark in marks:
            letter = _MODIFIED.get((letter, mark), letter)
            tone = _TONES.get(mark, tone)
        # Other scripts keep their own code point, above every ASCII weight.
        primary.append(_WEIGHTS.get(letter, letter if letter >= "\x80" else _WEIGHTS[" "]))
        tones.append(tone)
        cases.append("1" if base.isupper() else "0")
    return "".join(primary) + _LEVEL + "".join(tones) + _LEVEL + "".join(cases)


def name_key(full_name: str) -> str:
    """The sort key of a person: given name (tên, the last word) first, then the rest."""
    words = full_name.split()
    return sort_key(" ".join(words[-1:] + words[:-1]))


def name_contains(
    column: ColumnElement[str] | InstrumentedAttribute[str], q: str
) -> ColumnElement[bool]:
    """`column` (a folded name) contains `q` folded alike: any case, with or without marks."""
    escaped = fold(q).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")


def by_name(rows: Iterable[T], name: Callable[[T], str]) -> list[T]:
    """`rows` in Vietnamese order of `name(row)` (short lists: branches, departments)."""
    return sorted(rows, key=lambda row: sort_key(name(row)))


def _letters(value: str) -> list[tuple[str, str]]:
    """`value` decomposed (NFD) as (base character, its combining marks) pairs."""
    letters: list[tuple[str, str]] = []
    for char in unicodedata.normalize("NFD", value):
        if unicodedata.combining(char) and letters:
            base, marks = letters[-1]
            letters[-1] = (base, marks + char)
        else:
            letters.append((char, ""))
    return letters
