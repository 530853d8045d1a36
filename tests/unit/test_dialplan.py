"""Kamailio's dialplan rows sort numbers exactly as agentdesk's own classification does."""

from __future__ import annotations

import re

import pytest

from tasks.pbx.dialplan import CLASSIFY, NORMALISE, Rule, dialplan_rules
from workflow.domain.numbers import classify
from workflow.domain.rules import ExtensionPolicy

RULES = dialplan_rules()


def first_match(dpid: int, number: str) -> Rule | None:
    """The rule Kamailio's dialplan applies: the first by priority whose match_exp matches."""
    for rule in sorted((each for each in RULES if each.dpid == dpid), key=lambda each: each.pr):
        if re.search(rule.match_exp, number):
            return rule
    return None


def as_kamailio(number: str) -> tuple[str, str] | None:
    """dp_translate(NORMALISE) then dp_match(CLASSIFY): the number and its class."""
    normalise = first_match(NORMALISE, number)
    if normalise is None:
        return None
    translated = re.sub(normalise.subst_exp, normalise.repl_exp.replace("\\1", r"\g<1>"),
                        number)
    found = first_match(CLASSIFY, translated)
    return None if found is None else (translated, found.attrs)


@pytest.mark.parametrize("number", [
    "0912345678", "0868123456", "0703123456", "0589123456", "0996123456",
    "02437654321", "02838123456", "02363123456", "02923123456",
    "19001234", "1900545454", "18001091", "1800123456", "672123456",
    "113", "114", "115", "+84113", "0084115",
    "+84912345678", "0084912345678", "+842437654321",
    "+14155552671", "0014155552671", "+442071234567", "+81312345678", "+6561234567",
    "+66812345678", "+8613812345678",
])
def test_kamailio_classifies_like_agentdesk(number: str) -> None:
    ours = classify(number, ExtensionPolicy(4, "5"))
    assert ours is not None
    assert as_kamailio(number) == (ours.number, ours.number_class.value)


@pytest.mark.parametrize("number", ["0113", "0912", "+84123", "+1911", "001911"])
def test_what_agentdesk_refuses_kamailio_cannot_classify(number: str) -> None:
    assert classify(number, ExtensionPolicy(4, "5")) is None
    assert as_kamailio(number) is None


def test_every_rule_is_a_regular_expression_kamailio_can_compile() -> None:
    for rule in RULES:
        re.compile(rule.match_exp)
        assert rule.dpid in (NORMALISE, CLASSIFY)
        assert (rule.dpid == CLASSIFY) == bool(rule.attrs)
