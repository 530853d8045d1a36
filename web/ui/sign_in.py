"""Signing in and out of the web application."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from web.auth import SignedInUser, SignInThrottled, authenticate
from web.extensions import db
from web.i18n import SESSION_KEY
from web.ui.access import safe_next
from web.ui.forms import LoginForm
from workflow.people.accounts import end_sessions, identity_of

#: Failed sign-ins are counted per address and per account (`web.throttle`).
bp = Blueprint("sign_in", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The sign-in form; a wrong email or password gets one message that names neither."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data or "", form.password.data or "")
        except SignInThrottled as refusal:
            form.password.errors.append(
                _("Đăng nhập sai quá nhiều lần; hãy thử lại sau %(minutes)s phút.",
                  minutes=refusal.minutes))
            response = make_response(render_template("login.html", form=form), 429)
            response.headers["Retry-After"] = str(refusal.seconds)
            return response
        if user is not None:
            identity = identity_of(user)
            session.permanent = True  # kept for SESSION_HOURS since the last request
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
    if current_user.is_authenticated:
        end_sessions(db.session(), current_user.id)
    logout_user()
    session.clear()
    if language:
        session[SESSION_KEY] = language
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("sign_in.login"))
