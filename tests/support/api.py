"""The JSON API as a signed-in client sees it."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.support.world import World


class ApiClient:
    """A test client signed in with a bearer token."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, url: str, json: Any = None, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.post(
            url, json=json if json is not None else {}, headers=headers, **kwargs
        )

    def put(self, url: str, json: Any = None, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.put(url, json=json, headers=headers, **kwargs)


def new_ticket(client: ApiClient, world: World, index: int = 0, **fields: object) -> dict:
    """POST a new ticket and return its JSON (asserting 201)."""
    response = client.post(
        "/api/v1/tickets", {"kind": "new", "employee_id": world.employee_ids[index], **fields}
    )
    assert response.status_code == 201, response.json
    return response.json
