"""What kind of number is dialled, recognised with phonenumbers' metadata (region VN)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import CountryCodeSource, PhoneNumberType, shortnumberinfo

from workflow.domain.routing import DEFAULT_REGION, dialled_digits
from workflow.domain.rules import ExtensionPolicy


class NumberClass(StrEnum):
    """The classes a calling profile allows or refuses."""

    INTERNAL = "internal"  # another extension of the organisation
    LANDLINE = "landline"  # a domestic fixed line
    MOBILE = "mobile"  # a domestic mobile
    INTERNATIONAL = "international"  # any number outside the home region
    SPECIAL = "special"  # premium rate, toll free, shared cost, short codes
    EMERGENCY = "emergency"  # 113, 114, 115: never refused


#: The classes a profile chooses among (emergency numbers are always allowed).
CHOOSABLE = (NumberClass.INTERNAL, NumberClass.LANDLINE, NumberClass.MOBILE,
             NumberClass.INTERNATIONAL, NumberClass.SPECIAL)

#: Domestic number types that are services rather than people.
_SPECIAL_TYPES = {PhoneNumberType.PREMIUM_RATE, PhoneNumberType.TOLL_FREE,
                  PhoneNumberType.SHARED_COST, PhoneNumberType.UAN, PhoneNumberType.VOICEMAIL,
                  PhoneNumberType.PAGER, PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.VOIP}


@dataclass(frozen=True)
class Dialled:
    """A dialled number in canonical form (E.164, an extension or a short code) and its class."""

    number: str
    number_class: NumberClass


def _is_extension(policy: ExtensionPolicy, digits: str) -> bool:
    """Whether `digits` has the shape of an extension (reserved ones included)."""
    return (digits.isdecimal() and digits.isascii() and len(digits) == policy.length
            and digits.startswith(policy.prefix) and not digits.startswith("0"))


def classify(raw: str, policy: ExtensionPolicy, region: str = DEFAULT_REGION) -> Dialled | None:
    """The class of a dialled number, or None when it is no number anyone can reach."""
    digits = dialled_digits(raw)
    if digits is None:
        return None
    # Emergency first: an extension plan must never shadow 113, 114 or 115.
    if digits.isdecimal() and shortnumberinfo.is_emergency_number(digits, region):
        return Dialled(digits, NumberClass.EMERGENCY)
    if _is_extension(policy, digits):
        return Dialled(digits, NumberClass.INTERNAL)
    try:
        parsed = phonenumbers.parse(digits, region, keep_raw_input=True)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return _short_code(parsed, region)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if phonenumbers.region_code_for_number(parsed) != region:
        return Dialled(e164, NumberClass.INTERNATIONAL)
    kind = phonenumbers.number_type(parsed)
    if kind in _SPECIAL_TYPES:
        return Dialled(e164, NumberClass.SPECIAL)
    if kind is PhoneNumberType.MOBILE:
        return Dialled(e164, NumberClass.MOBILE)
    return Dialled(e164, NumberClass.LANDLINE)


def _short_code(parsed: phonenumbers.PhoneNumber, region: str) -> Dialled | None:
    """A home short code written with the country code (+84 113), as its bare code."""
    if (parsed.country_code_source == CountryCodeSource.FROM_DEFAULT_COUNTRY
            or parsed.country_code is None
            or phonenumbers.region_code_for_country_code(parsed.country_code) != region):
        return None  # 0113 is no number; another country's short codes are out of reach
    code = str(parsed.national_number)
    if shortnumberinfo.is_emergency_number(code, region):
        return Dialled(code, NumberClass.EMERGENCY)
    if shortnumberinfo.is_valid_short_number_for_region(parsed, region):
        return Dialled(code, NumberClass.SPECIAL)
    return None
