"""Extension policy, routing and guards, table-driven."""

from __future__ import annotations

import pytest

from workflow.domain.errors import RuleViolation
from workflow.domain.routing import Routing, RoutingType, normalise_number, parse_routing
from workflow.domain.rules import (
    Actor,
    ExtensionPolicy,
    Role,
    cancel_refusal,
    decision_refusal,
    extension_problems,
    retry_refusal,
)

POLICY = ExtensionPolicy(length=4, prefix="56", reserved=frozenset({"5600"}))


@pytest.mark.parametrize(
    ("extension", "codes"),
    [
        ("5601", []),
        ("5699", []),
        ("56a1", ["extension_digits"]),
        ("", ["extension_digits"]),
        ("٥٦٠١", ["extension_digits"]),  # Arabic-Indic digits are not ASCII digits
        ("0", ["extension_zero", "extension_length", "extension_prefix"]),
        ("0000", ["extension_zero", "extension_prefix"]),
        ("0561", ["extension_leading_zero", "extension_prefix"]),
        ("560", ["extension_length"]),
        ("56011", ["extension_length"]),
        ("5701", ["extension_prefix"]),
        ("5600", ["extension_reserved"]),
    ],
)
def test_extension_rules(extension: str, codes: list[str]) -> None:
    assert [problem.code for problem in extension_problems(POLICY, extension)] == codes


def test_policy_without_prefix_accepts_any_non_zero_leading_digit() -> None:
    policy = ExtensionPolicy(length=3)
    assert not extension_problems(policy, "123")
    assert [p.code for p in extension_problems(policy, "012")] == ["extension_leading_zero"]


@pytest.mark.parametrize(
    ("policy", "codes"),
    [
        (ExtensionPolicy(4, "5"), []),
        (ExtensionPolicy(2, ""), ["policy_length_range"]),
        (ExtensionPolicy(9, ""), ["policy_length_range"]),
        (ExtensionPolicy(4, "0"), ["policy_prefix_zero"]),
        (ExtensionPolicy(4, "5a"), ["policy_prefix_digits"]),
        (ExtensionPolicy(4, "5678"), ["policy_prefix_too_long"]),
    ],
)
def test_policy_itself_is_checked(policy: ExtensionPolicy, codes: list[str]) -> None:
    assert [problem.code for problem in policy.problems()] == codes


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (ExtensionPolicy(4, "56"), (5600, 5699)),
        (ExtensionPolicy(3), (100, 999)),
        (ExtensionPolicy(6, "9"), (900000, 999999)),
    ],
)
def test_the_number_range_covers_exactly_the_policy_length_and_prefix(
    policy: ExtensionPolicy, expected: tuple[int, int]
) -> None:
    assert policy.number_range() == expected


def test_app_web_is_the_default_routing() -> None:
    assert parse_routing(None) == Routing(RoutingType.APP_WEB)
    assert parse_routing("app_web", "0912345678", "0987654321") == Routing()


def test_phone_routing_numbers_are_stored_in_e164() -> None:
    routing = parse_routing("phone", "0912 345 678", "+84 24 3825 2525")
    assert routing == Routing(RoutingType.PHONE, "+84912345678", "+842438252525")


@pytest.mark.parametrize(
    ("priority", "backup", "field", "code"),
    [
        (None, "0912345678", "routing.priority_number", "phone_required"),
        ("0912345678", "", "routing.backup_number", "phone_required"),
        ("12", "0912345678", "routing.priority_number", "phone_invalid"),
        ("0912345678", "abc", "routing.backup_number", "phone_invalid"),
        ("0912345678", "+84912345678", "routing.backup_number", "backup_same_as_priority"),
    ],
)
def test_phone_routing_problems_are_per_field(
    priority: str | None, backup: str | None, field: str, code: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        parse_routing("phone", priority, backup)
    assert [problem.code for problem in refused.value.problems[field]] == [code]


def test_unknown_routing_type_is_refused() -> None:
    with pytest.raises(RuleViolation) as refused:
        parse_routing("fax")
    assert "routing.type" in refused.value.problems


def test_normalise_number_rejects_non_numbers() -> None:
    assert normalise_number("hello") is None
    assert normalise_number("+1 650 253 0000") == "+16502530000"


REQUESTER = Actor(1, Role.REQUESTER)
APPROVER = Actor(2, Role.APPROVER, branch_ids=frozenset({10}))
APPROVER_ALL = Actor(3, Role.APPROVER, all_branches=True)
ADMIN = Actor(4, Role.ADMIN)


@pytest.mark.parametrize(
    ("actor", "branch", "requester", "refusal"),
    [
        (REQUESTER, 10, 9, "not_an_approver"),
        (APPROVER, 10, 9, None),
        (APPROVER, 11, 9, "out_of_scope"),
        (APPROVER, 10, 2, "own_ticket"),
        (APPROVER_ALL, 11, 9, None),
        (ADMIN, 11, 9, None),
        (ADMIN, 11, 4, "own_ticket"),
    ],
)
def test_who_may_decide(actor: Actor, branch: int, requester: int, refusal: str | None) -> None:
    assert decision_refusal(actor, branch, requester) == refusal


def test_who_may_cancel_and_retry() -> None:
    assert cancel_refusal(REQUESTER, 1) is None
    assert cancel_refusal(REQUESTER, 9) == "not_requester"
    assert cancel_refusal(ADMIN, 9) is None
    assert retry_refusal(REQUESTER, 10) == "not_an_approver"
    assert retry_refusal(APPROVER, 11) == "out_of_scope"
    assert retry_refusal(APPROVER, 10) is None
