"""Kamailio dialplan rows that sort dialled numbers into classes, made from phonenumbers' data.

Kamailio cannot run phonenumbers, so agentdesk writes its regular expressions (the same
metadata `workflow.domain.numbers` uses) into Kamailio's `dialplan` table: rules of
NORMALISE put a dialled number in E.164 form, rules of CLASSIFY name its class in `attrs`.
"""

from __future__ import annotations

from dataclasses import dataclass

from phonenumbers import PhoneMetadata

from workflow.domain.numbers import NumberClass
from workflow.domain.routing import DEFAULT_REGION

#: dialplan ids (`dpid`) of the two rule sets.
NORMALISE, CLASSIFY = 1, 2
#: Longest E.164 number (ITU-T E.164), digits after the +.
E164_DIGITS = 15

#: Number types of the metadata that are services rather than people, in rule order.
_SPECIAL = ("toll_free", "premium_rate", "shared_cost", "uan", "voip", "personal_number",
            "pager", "voicemail")


@dataclass(frozen=True)
class Rule:
    """One row of Kamailio's dialplan table (match_op 1: a PCRE regular expression)."""

    dpid: int
    pr: int
    match_exp: str
    subst_exp: str = ""
    repl_exp: str = ""
    attrs: str = ""


def dialplan_rules(region: str = DEFAULT_REGION) -> list[Rule]:
    """Normalisation then classification rules for numbers dialled in `region`."""
    home = PhoneMetadata.metadata_for_region(region)
    short = PhoneMetadata.short_metadata_for_region(region)
    assert home is not None and short is not None, region
    country, exit_code, trunk = home.country_code, home.international_prefix, home.national_prefix
    assert short.emergency is not None
    emergency = short.emergency.national_number_pattern
    rules = [
        # An emergency code written with the country code (+84 113) is the bare code.
        Rule(NORMALISE, 5, rf"^(?:\+|{exit_code}){country}({emergency})$",
             rf"^(?:\+|{exit_code}){country}({emergency})$", r"\1"),
        # Already E.164; the international prefix (00); the national prefix (0); national
        # numbers dialled without it (1900…, 1800…); short codes (113) stay as they are.
        Rule(NORMALISE, 10, r"^\+([1-9][0-9]+)$", r"^\+([1-9][0-9]+)$", r"+\1"),
        Rule(NORMALISE, 20, rf"^{exit_code}([1-9][0-9]+)$", rf"^{exit_code}([1-9][0-9]+)$",
             r"+\1"),
        Rule(NORMALISE, 30, rf"^{trunk}([1-9][0-9]+)$", rf"^{trunk}([1-9][0-9]+)$",
             rf"+{country}\1"),
        Rule(NORMALISE, 40, r"^([1-9][0-9]{6,})$", r"^([1-9][0-9]{6,})$", rf"+{country}\1"),
        Rule(NORMALISE, 50, r"^([1-9][0-9]{0,5})$", r"^([1-9][0-9]{0,5})$", r"\1"),
    ]
    classes = [(f"^(?:{emergency})$", NumberClass.EMERGENCY)]
    for kind in _SPECIAL:
        if (found := getattr(home, kind)) is not None and found.national_number_pattern:
            classes.append((rf"^\+{country}(?:{found.national_number_pattern})$",
                            NumberClass.SPECIAL))
    assert home.mobile is not None and home.fixed_line is not None
    classes += [
        (rf"^\+{country}(?:{home.mobile.national_number_pattern})$", NumberClass.MOBILE),
        (rf"^\+{country}(?:{home.fixed_line.national_number_pattern})$", NumberClass.LANDLINE),
        (rf"^\+(?!{country})[1-9][0-9]{{6,{E164_DIGITS - 1}}}$", NumberClass.INTERNATIONAL),
    ]
    if short.short_code is not None:
        classes.append((f"^(?:{short.short_code.national_number_pattern})$",
                        NumberClass.SPECIAL))
    rules += [Rule(CLASSIFY, 10 * (rank + 1), pattern, attrs=number_class.value)
              for rank, (pattern, number_class) in enumerate(classes)]
    return rules
