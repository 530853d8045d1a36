"""Signing in and out of the web application."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from web.auth import SignedInUser, check_credentials
from web.i18n import SESSION_KEY
from web.ui.access import safe_next
from web.ui.forms import LoginForm
from workflow.accounts import identity_of

#: Its POSTs (sign in, sign out) are rate limited per client address, see `init_ui`.
bp = Blueprint("sign_in", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The sign-in form; a wrong email or password gets one message that names neither."""
    form = LoginForm()
    if form.validate_on_submit():
        user = check_credentials(form.email.data or "", form.password.data or "")
        if user is not None:
            identity = identity_of(user)
            login_user(SignedInUser(identity))
            session[SESSION_KEY] = identity.language
            return redirect(safe_next(form.next.data, url_for("agent_pages.agent_list")))
        form.password.errors.append(_("Email hoặc mật khẩu không đúng."))
    elif not form.is_submitted():
        form.next.data = safe_next(request.args.get("next"), "")
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    """Sign out (a POST with the CSRF token, so a link elsewhere cannot sign anyone out)."""
    language = session.get(SESSION_KEY)
    logout_user()
    session.clear()
    if language:
        session[SESSION_KEY] = language
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("sign_in.login"))
