"""The call check for everyone: may this extension call this number now, and why."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request

from web.extensions import db
from web.i18n import current_language
from web.messages import render
from web.ui.access import signed_in
from web.ui.call_records import RecentCalls, recent_refusals
from web.ui.calling.blueprint import bp
from web.ui.calling.forms import CallCheckForm
from web.ui.form_errors import show_refusal
from workflow.calling.check import CallCheck, check_call
from workflow.calling.queries import active_sip_username, hotline_labels
from workflow.domain.errors import RuleViolation
from workflow.models import utcnow

#: How many of the extension's recent refused calls the answer cites.
REFUSALS_SHOWN = 5


@bp.route("/calling/check")
@signed_in()
def check() -> Any:
    """May this extension call this number now, as which caller ID, for how long, and why."""
    form = CallCheckForm(request.args)
    result: CallCheck | None = None
    moment = utcnow()
    asked = any(name in request.args for name in ("extension", "number", "caller_id"))
    if asked and form.validate():
        try:
            result = check_call(db.session(), form.extension.data or "",
                                form.number.data or "", moment,
                                current_app.config["TIMEZONE"],
                                (form.caller_id.data or "").strip() or None)
        except RuleViolation as violation:
            show_refusal(form, violation)
    message = (render(f"call_{result.verdict.reason}", {}, current_language())
               if result is not None else "")
    refusals = _refusals(result.extension) if result is not None else None
    return render_template("calling/check.html", form=form, result=result, message=message,
                           moment=moment, hotline_labels=hotline_labels(db.session()),
                           refusals=refusals)


def _refusals(extension: str) -> RecentCalls | None:
    """The calls the switchboard refused the extension's agent lately, with its reasons."""
    sip_username = active_sip_username(db.session(), extension)
    return recent_refusals(sip_username, REFUSALS_SHOWN) if sip_username else None
