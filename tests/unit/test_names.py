"""Folding names for search and the Vietnamese dictionary order of the sort keys."""

from __future__ import annotations

from workflow.names import fold, name_key, sort_key


def vietnamese(*words: str) -> list[str]:
    """`words` in the order their sort keys give."""
    return sorted(words, key=sort_key)


def test_folding_drops_tones_and_modifiers_and_reads_dd_as_d() -> None:
    assert fold("Nguyễn") == fold("NGUYỄN") == fold("nguyen") == "nguyen"
    assert fold("  Đặng   Thị\tNgọc ") == "dang thi ngoc"
    assert fold("Trương Ưng Ơn Ăn Ân Ê Ô") == "truong ung on an an e o"
    # Decomposed input (as some Windows programs write it) folds alike.
    assert fold("Nguye\u0302\u0303n") == "nguyen"


def test_letters_decide_before_tones() -> None:
    assert vietnamese("Kinh doanh", "Kế toán") == ["Kế toán", "Kinh doanh"]
    assert vietnamese("Phan", "Phạm") == ["Phạm", "Phan"]


def test_the_vietnamese_alphabet_orders_modified_letters_after_their_base() -> None:
    assert vietnamese("Em", "Đức", "Dung", "Zô") == ["Dung", "Đức", "Em", "Zô"]
    assert vietnamese("Ân", "Ăn", "An", "Bê") == ["An", "Ăn", "Ân", "Bê"]
    assert vietnamese("Ơn", "Ôn", "On", "Ưng", "Ung") == ["On", "Ôn", "Ơn", "Ung", "Ưng"]


def test_tones_order_ngang_huyen_hoi_nga_sac_nang() -> None:
    assert vietnamese("Mạ", "Má", "Mã", "Mả", "Mà", "Ma") == ["Ma", "Mà", "Mả", "Mã", "Má", "Mạ"]


def test_shorter_words_first_then_lower_case_first() -> None:
    assert vietnamese("Anh", "An Bình", "An") == ["An", "An Bình", "Anh"]
    assert vietnamese("MAI", "mai", "Mai") == ["mai", "Mai", "MAI"]


def test_people_sort_by_given_name_then_family_and_middle_names() -> None:
    people = ["Nguyễn Thị Bình", "Trần Văn An", "Lê An", "Bình"]
    assert sorted(people, key=name_key) == ["Lê An", "Trần Văn An", "Bình", "Nguyễn Thị Bình"]
