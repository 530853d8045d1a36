"""Whether a profile is assigned at a level to a target, among the listed assignments."""

from __future__ import annotations

from workflow.domain.calling_rules import NO_PROFILE, Assigned, Level, Profile, is_assigned

PROFILE = Profile(1, "Telesales", NO_PROFILE)
LISTED = [(None, Assigned(Level.ORGANISATION, "", PROFILE)),
          (3, Assigned(Level.BRANCH, "Hà Nội", PROFILE)),
          (7, Assigned(Level.AGENT, "5001", PROFILE))]


def test_an_assignment_is_found_at_its_level_and_target() -> None:
    assert is_assigned(LISTED, Level.BRANCH, 3)
    assert is_assigned(LISTED, Level.AGENT, 7)


def test_another_target_of_the_same_level_is_not_assigned() -> None:
    assert not is_assigned(LISTED, Level.BRANCH, 4)
    assert not is_assigned(LISTED, Level.AGENT, None)


def test_the_same_id_at_another_level_is_not_assigned() -> None:
    assert not is_assigned(LISTED, Level.DEPARTMENT, 3)
    assert not is_assigned(LISTED, Level.ROLE, 7)


def test_the_organisation_is_one_target_whatever_the_id() -> None:
    assert is_assigned(LISTED, Level.ORGANISATION, None)
    assert is_assigned(LISTED, Level.ORGANISATION, 3)
    assert not is_assigned(LISTED[1:], Level.ORGANISATION, None)


def test_nothing_listed_means_nothing_assigned() -> None:
    assert not is_assigned([], Level.BRANCH, 3)
