"""Changing the extension policy never strands an active extension."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.support.world import World, provision, submit
from web.extensions import db
from workflow.domain.errors import RuleViolation
from workflow.models import current_organisation
from workflow.people.policy import update_policy


def test_a_policy_that_would_invalidate_active_extensions_is_refused_with_them(
    app: Flask, world: World
) -> None:
    provision(app, world, submit(world, extension="5001"))
    with pytest.raises(RuleViolation) as refused:
        update_policy(db.session(), 4, "6", [], actor_id=world.admin_id)
    problem = refused.value.problems["policy"][0]
    assert (problem.code, problem.params["extensions"]) == ("policy_breaks_extensions", ["5001"])
    with pytest.raises(RuleViolation) as refused:
        update_policy(db.session(), 2, "", [], actor_id=world.admin_id)
    assert [p.code for p in refused.value.problems["policy"]] == ["policy_length_range"]
    db.session.rollback()
    assert current_organisation(db.session()).extension_prefix == "5"


def test_a_compatible_policy_change_is_saved(app: Flask, world: World) -> None:
    organisation = update_policy(db.session(), 4, "50", ["5099", "5099"], actor_id=world.admin_id)
    assert (organisation.extension_prefix, organisation.reserved_extensions) == ("50", ["5099"])
    assert submit(world).extension == "5000"  # no longer reserved under the new policy
