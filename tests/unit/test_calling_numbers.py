"""Classification of dialled numbers for calling profiles, table-driven."""

from __future__ import annotations

import pytest

from workflow.domain.numbers import CHOOSABLE, Dialled, NumberClass, classify
from workflow.domain.rules import ExtensionPolicy

INTERNAL = NumberClass.INTERNAL
LANDLINE = NumberClass.LANDLINE
MOBILE = NumberClass.MOBILE
INTERNATIONAL = NumberClass.INTERNATIONAL
SPECIAL = NumberClass.SPECIAL
EMERGENCY = NumberClass.EMERGENCY

#: Three-digit extensions starting with 1: the plan that collides with 113, 114 and 115.
PLAN_1XX = ExtensionPolicy(length=3, prefix="1", reserved=frozenset({"100", "113"}))
#: Four-digit extensions starting with 56 (the plan of the other unit tests).
PLAN_56XX = ExtensionPolicy(length=4, prefix="56", reserved=frozenset({"5600"}))
#: Three-digit extensions with any first digit but 0.
PLAN_ANY3 = ExtensionPolicy(length=3)


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        # Viettel
        ("0961234567", "+84961234567"),
        ("0971234567", "+84971234567"),
        ("0983 456 789", "+84983456789"),
        ("0868123456", "+84868123456"),
        ("0321234567", "+84321234567"),
        ("0399123456", "+84399123456"),
        # Vinaphone
        ("0912345678", "+84912345678"),
        ("0941234567", "+84941234567"),
        ("0888123456", "+84888123456"),
        ("0831234567", "+84831234567"),
        # Mobifone
        ("0901234567", "+84901234567"),
        ("0931234567", "+84931234567"),
        ("0898123456", "+84898123456"),
        ("0703123456", "+84703123456"),
        ("0791234567", "+84791234567"),
        # Vietnamobile, Gmobile, Itelecom
        ("0921234567", "+84921234567"),
        ("0561234567", "+84561234567"),
        ("0991234567", "+84991234567"),
        ("0599123456", "+84599123456"),
        ("0871234567", "+84871234567"),
        # The same Vinaphone number written every way people write it
        ("0912 345 678", "+84912345678"),
        ("091.234.5678", "+84912345678"),
        ("091-234-5678", "+84912345678"),
        ("0 9 1 2 3 4 5 6 7 8", "+84912345678"),
        ("  0912345678\t", "+84912345678"),
        ("+84912345678", "+84912345678"),
        ("+84 91 234 5678", "+84912345678"),
        ("+84-91-234-5678", "+84912345678"),
        ("+84 (0) 91 234 5678", "+84912345678"),
        ("+840912345678", "+84912345678"),
        ("0084912345678", "+84912345678"),
        ("00 84 91 234 5678", "+84912345678"),
    ],
)
def test_domestic_mobiles(raw: str, number: str) -> None:
    assert classify(raw, PLAN_1XX) == Dialled(number, MOBILE)


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        # Hà Nội 024
        ("02438253456", "+842438253456"),
        ("024 3825 3456", "+842438253456"),
        ("024.3825.3456", "+842438253456"),
        ("(024) 3825 3456", "+842438253456"),
        ("+84 24 3825 3456", "+842438253456"),
        ("0084 24 3825 3456", "+842438253456"),
        # TP. Hồ Chí Minh 028
        ("02838223456", "+842838223456"),
        ("028 3822 3456", "+842838223456"),
        ("028-3822-3456", "+842838223456"),
        ("+842838223456", "+842838223456"),
        # Đà Nẵng, Hải Phòng, Cần Thơ
        ("0236 3123456", "+842363123456"),
        ("0225 3123456", "+842253123456"),
        ("0292 3123456", "+842923123456"),
    ],
)
def test_domestic_landlines(raw: str, number: str) -> None:
    assert classify(raw, PLAN_1XX) == Dialled(number, LANDLINE)


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        # United States
        ("+1 650 253 0000", "+16502530000"),
        ("+1 (650) 253-0000", "+16502530000"),
        ("0016502530000", "+16502530000"),
        ("+1 212 736 5000", "+12127365000"),
        # United Kingdom
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("+44 7911 123456", "+447911123456"),
        # Japan
        ("+81 3-1234-5678", "+81312345678"),
        ("+81 90-1234-5678", "+819012345678"),
        # Singapore
        ("+65 6123 4567", "+6561234567"),
        ("+65 9123 4567", "+6591234567"),
        ("00 65 6123 4567", "+6561234567"),
        # Neighbours and a non-geographic (international freephone) number
        ("+66 2 123 4567", "+6621234567"),
        ("+86 10 1234 5678", "+861012345678"),
        ("+800 1234 5678", "+80012345678"),
    ],
)
def test_international(raw: str, number: str) -> None:
    assert classify(raw, PLAN_1XX) == Dialled(number, INTERNATIONAL)


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        # Premium rate 1900
        ("19001234", "+8419001234"),
        ("1900 1234", "+8419001234"),
        ("1900.6600", "+8419006600"),
        ("1900123456", "+841900123456"),
        ("+84 1900 1234", "+8419001234"),
        # Toll free 1800
        ("18001234", "+8418001234"),
        ("1800 1090", "+8418001090"),
        ("1800.1090", "+8418001090"),
        ("1800599920", "+841800599920"),
        # VoIP and UAN ranges of the numbering plan
        ("672012345", "+84672012345"),
        ("1999123", "+841999123"),
    ],
)
def test_special_services(raw: str, number: str) -> None:
    assert classify(raw, PLAN_1XX) == Dialled(number, SPECIAL)


@pytest.mark.parametrize(
    ("raw", "number", "policy"),
    [
        # Police, fire, ambulance, however written
        ("113", "113", PLAN_1XX),
        ("114", "114", PLAN_1XX),
        ("115", "115", PLAN_1XX),
        ("1 1 3", "113", PLAN_1XX),
        ("11-4", "114", PLAN_1XX),
        ("1.1.5", "115", PLAN_1XX),
        (" 113 ", "113", PLAN_1XX),
        # The extension plan would match them, 113 is even reserved in it: emergency still wins
        ("113", "113", ExtensionPolicy(length=3, prefix="11")),
        ("114", "114", PLAN_ANY3),
        ("115", "115", ExtensionPolicy(length=3, prefix="1", reserved=frozenset({"115"}))),
        # A plan that does not match them at all
        ("113", "113", PLAN_56XX),
        ("115", "115", PLAN_56XX),
    ],
)
def test_emergency_first(raw: str, number: str, policy: ExtensionPolicy) -> None:
    assert classify(raw, policy) == Dialled(number, EMERGENCY)


@pytest.mark.parametrize(
    ("raw", "number", "policy"),
    [
        ("101", "101", PLAN_1XX),
        ("199", "199", PLAN_1XX),
        ("120", "120", PLAN_1XX),
        ("100", "100", PLAN_1XX),  # reserved, still an extension of the organisation
        ("1-0-1", "101", PLAN_1XX),
        ("1 0 1", "101", PLAN_1XX),
        (" 1.2.0 ", "120", PLAN_1XX),
        ("116", "116", PLAN_1XX),  # next to the emergency numbers, but not one
        ("5601", "5601", PLAN_56XX),
        ("5699", "5699", PLAN_56XX),
        ("5600", "5600", PLAN_56XX),  # reserved
        ("56 01", "5601", PLAN_56XX),
        ("999", "999", PLAN_ANY3),
        ("911", "911", PLAN_ANY3),  # not an emergency number in Viet Nam
        ("250", "250", PLAN_ANY3),
    ],
)
def test_internal_extensions(raw: str, number: str, policy: ExtensionPolicy) -> None:
    assert classify(raw, policy) == Dialled(number, INTERNAL)


@pytest.mark.parametrize(
    ("raw", "policy"),
    [
        # Nothing or junk
        ("", PLAN_1XX),
        ("   ", PLAN_1XX),
        ("abc", PLAN_1XX),
        ("0", PLAN_1XX),
        ("+", PLAN_1XX),
        ("00", PLAN_1XX),
        ("---", PLAN_1XX),
        ("...", PLAN_1XX),
        ("+84", PLAN_1XX),
        ("*", PLAN_1XX),
        ("#", PLAN_1XX),
        ("0912345678abc", PLAN_1XX),
        # Extension-looking, but of the wrong length or prefix, or with a leading 0
        ("12", PLAN_1XX),
        ("1234", PLAN_1XX),
        ("1088", PLAN_1XX),
        ("0101", PLAN_1XX),
        ("012", PLAN_1XX),
        ("911", PLAN_1XX),
        ("560", PLAN_56XX),
        ("56011", PLAN_56XX),
        ("0560", PLAN_56XX),
        ("05601", PLAN_56XX),
        ("5701", PLAN_56XX),
        ("101", PLAN_56XX),
        ("001", PLAN_ANY3),
        ("٥٦٠١", PLAN_56XX),  # Arabic-Indic digits are not an extension
        # Domestic numbers that are too short, too long or not allocated
        ("024", PLAN_1XX),
        ("0912", PLAN_1XX),
        ("09123456789", PLAN_1XX),
        ("0912 345 678 9", PLAN_1XX),
        ("0521234567", PLAN_1XX),
        ("0891234567", PLAN_1XX),
        ("084113", PLAN_1XX),
        ("0113", PLAN_1XX),
        ("1234567890123456789", PLAN_1XX),
    ],
)
def test_not_a_number(raw: str, policy: ExtensionPolicy) -> None:
    assert classify(raw, policy) is None


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # The home region decides what is international and what is an emergency
        ("+84912345678", "SG", Dialled("+84912345678", INTERNATIONAL)),
        ("91234567", "SG", Dialled("+6591234567", MOBILE)),
        ("999", "SG", Dialled("999", EMERGENCY)),
        ("113", "SG", Dialled("113", INTERNAL)),  # just an extension outside Viet Nam
        ("113", "VN", Dialled("113", EMERGENCY)),
    ],
)
def test_home_region(raw: str, region: str, expected: Dialled) -> None:
    assert classify(raw, PLAN_ANY3, region) == expected


@pytest.mark.parametrize(
    "raw",
    ["113abc", "abc113", "1a1b3", "1/1/3", "1;1;3", "*113", "113#"],
)
def test_emergency_number_is_canonical(raw: str) -> None:
    """Junk around 113 is either refused or reduced to 113: never passed on as dialled."""
    assert classify(raw, PLAN_1XX) in (None, Dialled("113", EMERGENCY))


@pytest.mark.parametrize(
    ("raw", "short"),
    [("+84 113", "113"), ("+84115", "115"), ("0084113", "113"), ("0084 114", "114")],
)
def test_emergency_number_with_country_code(raw: str, short: str) -> None:
    """113 written with +84 or 0084 is no premium or toll-free service to be refused or billed:
    it is the emergency number or nothing, and never carries the prefix as its canonical form."""
    assert classify(raw, PLAN_56XX) in (None, Dialled(short, EMERGENCY))


@pytest.mark.parametrize(
    "raw",
    ["+1 911", "+1911", "001911", "+44 999", "+44 112", "0044 999", "+44 116 123"],
)
def test_foreign_short_codes_are_not_domestic_specials(raw: str) -> None:
    """Another country's short codes cannot be dialled from Viet Nam with its country code."""
    assert classify(raw, PLAN_56XX) is None


def test_choosable_classes_leave_out_emergency() -> None:
    assert set(CHOOSABLE) == set(NumberClass) - {EMERGENCY}
