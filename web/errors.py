"""One error-translation layer: domain errors and HTTP errors become JSON with messages."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import (
    Flask,
    Response,
    has_request_context,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from web.extensions import db
from web.i18n import current_language
from web.messages import render, translate_library_message
from workflow.domain.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RuleViolation,
    WorkflowError,
)

logger = logging.getLogger(__name__)

#: HTTP status of each kind of domain error.
STATUS = {NotFound: 404, PermissionDenied: 403, Conflict: 409, RuleViolation: 422}


def flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested marshmallow errors as {"a.b": [messages]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in flatten(value, name).items():
                flat.setdefault(field, []).extend(messages)
    elif isinstance(errors, list | tuple):
        for item in errors:
            if isinstance(item, Mapping | list | tuple):
                for field, messages in flatten(item, prefix).items():
                    flat.setdefault(field, []).extend(messages)
            else:
                flat.setdefault(prefix or "_schema", []).append(str(item))
    else:
        flat.setdefault(prefix or "_schema", []).append(str(errors))
    return flat


def error_response(
    status: int, code: str, params: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
) -> tuple[Response, int]:
    """The JSON body every API error shares; a page for people using the web pages."""
    language = current_language()
    message = render(code, params or {}, language)
    if _for_a_person():
        try:
            page = render_template("error.html", status=status, message=message,
                                   errors=errors or {})
        except Exception:  # the page itself needs the database, which may be what failed
            logger.exception("error page could not be rendered")
            page = message
        return make_response(page, status), status
    body: dict[str, Any] = {"code": status, "error": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return jsonify(body), status


def _for_a_person() -> bool:
    """Whether the failing request came from the web pages (not the API or a probe)."""
    return has_request_context() and not request.path.startswith(("/api/", "/healthz", "/readyz"))


def handle_workflow_error(error: WorkflowError) -> tuple[Response, int]:
    """Map a domain error to 403/404/409/422 with per-field messages."""
    db.session.rollback()
    status = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)
    if isinstance(error, RuleViolation):
        language = current_language()
        errors = {
            field: [render(problem.code, problem.params, language) for problem in problems]
            for field, problems in error.problems.items()
        }
        return error_response(422, "invalid", errors=errors)
    return error_response(status, error.code, error.params)


def handle_http_error(error: HTTPException) -> tuple[Response, int]:
    """Map HTTP errors (including webargs' 422) to the shared JSON body, keeping the headers
    the error carries (Allow on 405, WWW-Authenticate on 401, Retry-After on 429…)."""
    response, status = _http_error_body(error)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status


def _http_error_body(error: HTTPException) -> tuple[Response, int]:
    """The shared body of an HTTP error."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if status == 422 and messages:
        language = current_language()
        # webargs nests errors under their location ("json", "query"): drop that level.
        located = messages if not isinstance(messages, Mapping) else {
            key: value for location in messages.values() for key, value in
            (location.items() if isinstance(location, Mapping) else [("_schema", location)])
        }
        errors = {
            field: [translate_library_message(message, language) for message in texts]
            for field, texts in flatten(located).items()
        }
        return error_response(422, "invalid", errors=errors)
    if isinstance(error, CSRFError):
        return error_response(status, "csrf_failed")
    if status == 413:
        return _too_large()
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
            409: "conflict", 429: "too_many_requests"}.get(
        status, "server_error" if status >= 500 else "invalid")
    return error_response(status, code)


def _too_large() -> tuple[Response, int]:
    """413 naming the limit that applied: an upload's or any other body's."""
    if not has_request_context() or request.mimetype == "multipart/form-data":
        return error_response(413, "file_too_large")
    limit = request.max_content_length or 0
    return error_response(413, "body_too_large", {"max": f"{limit // (1024 * 1024)} MB"})


def handle_integrity_error(error: IntegrityError) -> tuple[Response, int]:
    """A uniqueness race that got past the rules is a conflict, not a crash."""
    db.session.rollback()
    logger.info("integrity conflict: %s", error.orig)
    return error_response(409, "conflict")


def handle_data_error(error: DataError) -> tuple[Response, int]:
    """A value the database cannot hold that got past the schemas is bad input, not a crash
    (which field is not known here, so the message stands for the whole body)."""
    db.session.rollback()
    logger.info("value refused by the database: %s", error.orig)
    message = render("value_refused_by_database", {}, current_language())
    return error_response(422, "invalid", errors={"_schema": [message]})


def handle_unexpected(error: Exception) -> tuple[Response, int]:
    """Anything else: roll back, log, and answer 500 without details."""
    db.session.rollback()
    if isinstance(error, OperationalError):
        logger.error("database unavailable: %s", error.orig)
        return error_response(503, "server_error")
    logger.exception("unhandled error")
    return error_response(500, "server_error")


def register_error_handlers(app: Flask) -> None:
    """Install every handler on `app`."""
    app.register_error_handler(WorkflowError, handle_workflow_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(Exception, handle_unexpected)
