"""The API shows the extension policy and offers no way to change it (only the page does)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from tests.support.api import ApiClient
from tests.support.world import World
from web.extensions import db
from workflow.models import current_organisation


def test_no_method_of_the_api_changes_the_policy(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    client = api("admin")
    body = {"length": 4, "prefix": "5", "reserved": ["năm"]}
    assert client.put("/api/v1/policy", json=body).status_code == 405
    assert client.post("/api/v1/policy", json=body).status_code == 405
    assert current_organisation(db.session()).reserved_extensions == ["5000"]
    writes = [rule.rule for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/") and "polic" in rule.rule
              and (rule.methods or set()) - {"GET", "HEAD", "OPTIONS"}]
    assert writes == []
