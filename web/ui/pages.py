"""The home page and the language switch."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, session, url_for
from flask_login import current_user

from web.extensions import db
from web.i18n import SESSION_KEY
from web.ui.access import safe_next
from web.ui.forms import LanguageForm
from workflow.people.accounts import set_language

bp = Blueprint("pages", __name__)


@bp.route("/")
def home() -> Any:
    """The agent list for people signed in, else the sign-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("agent_pages.agent_list"))
    return redirect(url_for("sign_in.login"))


@bp.route("/language", methods=["POST"])
def choose_language() -> Any:
    """Switch the interface language; remembered for the signed-in user."""
    form = LanguageForm()
    if form.validate_on_submit():
        session[SESSION_KEY] = form.language.data
        if current_user.is_authenticated:
            set_language(db.session(), current_user.id, str(form.language.data))
    return redirect(safe_next(form.next.data, url_for("pages.home")))
