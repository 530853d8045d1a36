"""The call check for everyone: may this extension call this number now, and why."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request
from sqlalchemy.orm import Session

from web.extensions import db
from web.i18n import current_language
from web.messages import render
from web.ui.access import signed_in
from web.ui.calling.blueprint import bp
from web.ui.calling.forms import CallCheckForm
from web.ui.calling.shared import hotline_labels, put_errors
from workflow.calling.check import CallCheck, check_call
from workflow.calling.numbers import classify
from workflow.errors import NotFound, RuleViolation
from workflow.extensions import current_organisation
from workflow.models import utcnow
from workflow.routing import normalise_number


@bp.route("/calling/check")
@signed_in()
def check() -> Any:
    """May this extension call this number now, as which caller ID, for how long, and why."""
    form = CallCheckForm(request.args)
    result: CallCheck | None = None
    moment = utcnow()
    asked = any(name in request.args for name in ("extension", "number", "caller_id"))
    if asked and form.validate():
        session = db.session()
        language = current_language()
        try:
            result = check_call(session, form.extension.data or "", form.number.data or "",
                                moment, current_app.config["TIMEZONE"],
                                (form.caller_id.data or "").strip() or None)
        except NotFound:
            form.extension.errors.append(render(
                "extension_not_found", {"extension": (form.extension.data or "").strip()},
                language))
            _number_errors(session, form)
        except RuleViolation as violation:
            put_errors(form, violation)
    message = (render(f"call_{result.verdict.reason}", {}, current_language())
               if result is not None else "")
    return render_template("calling/check.html", form=form, result=result, message=message,
                           moment=moment, hotline_labels=hotline_labels(db.session()))


def _number_errors(session: Session, form: CallCheckForm) -> None:
    """What is wrong with the numbers too when the extension is unknown (the check stops there)."""
    language = current_language()
    number = form.number.data or ""
    if classify(number, current_organisation(session).policy) is None:
        form.number.errors.append(render("number_invalid", {"number": number}, language))
    caller_id = (form.caller_id.data or "").strip()
    if caller_id and normalise_number(caller_id) is None:
        form.caller_id.errors.append(render("phone_invalid", {"number": caller_id}, language))
