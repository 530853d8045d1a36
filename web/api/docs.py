"""The OpenAPI document made exact: one error schema for every error body, and the error
responses of every operation derived once from its shape (not copied per endpoint)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

import flask
import flask_smorest
from apispec import BasePlugin
from flask_smorest import Api
from marshmallow import Schema, fields
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.routing import Rule

from web.input_limits import CHECKED_JSON, MAX_ID, IdConverter

View = TypeVar("View", bound=Callable[..., Any])

#: Operations anyone may call, signed in or not, with the refusals they answer themselves
#: (signing in: 401 for a wrong email or password, 429 after too many failures).
PUBLIC_ENDPOINTS: dict[str, tuple[int, ...]] = {"session.sign_in": (401, 429),
                                                "session.sign_out": ()}


class ErrorSchema(Schema):
    """Every error body: the HTTP status, a machine-readable code, a message in the caller's
    language and, for invalid input, the messages of each field (JSON path)."""

    code = fields.Integer(required=True)
    error = fields.String(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ApiParser(FlaskParser):
    """webargs' Flask parser, reusing one instance of each argument schema and the JSON body
    `check_input` already parsed and checked.

    webargs would build the schema named by a class on every request, and marshmallow copies
    every declared field for each new instance; a schema holds no state between loads.
    """

    def __init__(self) -> None:
        super().__init__()
        self._schemas: dict[type[Schema], Schema] = {}

    def _get_schema(self, argmap: Any, req: flask.Request) -> Schema:
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)

    def _raw_load_json(self, req: flask.Request) -> Any:
        if CHECKED_JSON in req.environ and is_json_request(req):
            return req.environ[CHECKED_JSON]
        return super()._raw_load_json(req)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with `ApiParser`: every API module declares its views on it."""

    ARGUMENTS_PARSER = ApiParser()


class AgentdeskApi(Api):
    """flask-smorest's Api with our error body and no catch-all "default" response."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None


def response_name(status: int) -> str:
    """The name of the shared response component of `status` (flask-smorest's names)."""
    return HTTPStatus(status).name


def refuses(blp: Blueprint, *statuses: int) -> Callable[[View], View]:
    """Document refusals only the operation knows of (403 for a role, 409 for a race…)."""
    decorate: Callable[[View], View] = blp.doc(
        responses={status: response_name(status) for status in statuses})
    return decorate


def id_parameter(converter: IdConverter) -> dict[str, Any]:
    """A path id as the converter takes it."""
    return {"type": "integer", "minimum": 0, "maximum": MAX_ID}


class ErrorResponses(BasePlugin):
    """The errors every operation may answer, from what it takes: 401 and 429 (a bearer token
    from an address refused for failing too often) unless public, 404 with a path id, 400 and
    413 with a body, 415 and 403 for a write made with the session cookie that is neither JSON
    nor carries a valid X-CSRFToken, 422 always (any query argument is checked)."""

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        rule: Rule | None = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            needed = [422]
            if rule is not None and rule.endpoint in PUBLIC_ENDPOINTS:
                operation["security"] = []
                needed += PUBLIC_ENDPOINTS[rule.endpoint]
            else:
                needed += [401, 429]
            if method.lower() not in ("get", "head", "options"):
                needed += [403, 415]
            if rule is not None and rule.arguments:
                needed.append(404)
            if "requestBody" in operation:
                needed += [400, 413]
            for status in needed:
                if status not in responses and str(status) not in responses:
                    responses[status] = response_name(status)
