"""SIP passwords shown once: by one-time link, to their signed-in employee, or handed over."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, make_response, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from web.composition import vault
from web.extensions import db
from web.ui.access import signed_in
from web.ui.forms import CredentialLinkForm
from workflow import credentials
from workflow.agents import queries as agent_queries
from workflow.credentials import Vault
from workflow.domain.errors import Conflict, NotFound
from workflow.domain.rules import Role

bp = Blueprint("credential_pages", __name__)
logger = logging.getLogger(__name__)

#: A page with a password or a live link must not be cached or indexed. Its address goes to
#: no other site (the app-wide Referrer-Policy is same-origin, and the pages load nothing from
#: elsewhere); no-referrer would fail the CSRF check of the reveal button over HTTPS.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache",
                   "X-Robots-Tag": "noindex, nofollow"}


@bp.route("/credentials/open")
def open_link() -> Response:
    """Where one-time links lead: `/credentials/open#<token>`.

    The token is in the fragment, which browsers never send, so it appears in no access log,
    proxy log or Referer; the page's script posts it. Nothing is used up yet: mail scanners
    and link previews open links too.
    """
    return _private(render_template("credentials/open.html", form=CredentialLinkForm()))


@bp.route("/credentials/open", methods=["POST"])
def look_up_link() -> Response:
    """The password a posted token leads to, ready to be shown (or why it no longer works)."""
    form = CredentialLinkForm()
    if not form.validate_on_submit():
        return _private(render_template("credentials/open.html", form=form), 400)
    return _link_page(form.token.data or "", posted=True)


@bp.route("/credentials/reveal", methods=["POST"])
def reveal_posted() -> Response:
    """Show the password behind a posted token, once."""
    form = CredentialLinkForm()
    if not form.validate_on_submit():
        return _private(render_template("credentials/open.html", form=form), 400)
    return _reveal(form.token.data or "", posted=True)


@bp.route("/credentials/<token>")
def by_link(token: str) -> Response:
    """A link of the earlier form (the token in the path), kept working until it expires."""
    return _link_page(token)


@bp.route("/credentials/<token>", methods=["POST"])
def reveal_by_link(token: str) -> Response:
    """Show the password behind a link of the earlier form, once."""
    if not FlaskForm().validate_on_submit():
        return _link_page(token)
    return _reveal(token)


def _reveal(token: str, posted: bool = False) -> Response:
    """The page showing the password behind `token`, once (409 afterwards)."""
    try:
        revealed = credentials.reveal_by_link(db.session(), _vault(), token)
    except Conflict as error:
        return _link_page(token, status=409, unreadable=_unreadable(error), posted=posted)
    return _private(render_template("credentials/link.html", revealed=revealed, status=None,
                                    unreadable=False))


def link_address(token: str) -> str:
    """The address of a one-time link as mailed or handed over (BASE_URL, token in the
    fragment)."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}{url_for('credential_pages.open_link')}" \
        f"#{token}"


@bp.route("/my/credentials")
@signed_in()
def mine() -> Response:
    """The signed-in employee's SIP passwords waiting to be seen."""
    return _mine_page()


@bp.route("/my/credentials/<int:credential_id>", methods=["POST"])
@signed_in()
def reveal_mine(credential_id: int) -> Response:
    """Show one of the signed-in employee's own passwords, once."""
    if not FlaskForm().validate_on_submit():
        return _mine_page()
    try:
        revealed = credentials.reveal_own(db.session(), _vault(), credential_id,
                                          current_user.email)
    except Conflict as error:
        return _mine_page(status=409, unreadable=_unreadable(error))
    return _mine_page(revealed=revealed)


@bp.route("/agents/<int:agent_id>/credential-link", methods=["POST"])
@signed_in(Role.ADMIN)
def hand_over(agent_id: int) -> Response:
    """A new one-time link to the agent's pending password, for an admin to hand over."""
    session = db.session()
    agent = agent_queries.get_agent(session, agent_id)
    latest = credentials.latest_for(session, agent.sip_username)
    link = None
    if FlaskForm().validate_on_submit() and latest is not None:
        try:
            token = credentials.new_link(session, latest.id)
        except Conflict:
            token = None
        if token:
            # The address the emails use (BASE_URL), not the one this request came in by.
            link = link_address(token)
    status = 200 if link else 409
    return _private(render_template("credentials/handover.html", agent=agent, link=link,
                                    latest=latest), status)


def _link_page(token: str, status: int = 200, unreadable: bool = False,
               posted: bool = False) -> Response:
    """The page of a one-time link: ready to reveal, or why it no longer works. A posted
    token is posted again by the reveal button; a token in the path needs no repeating."""
    try:
        found = credentials.status_by_link(db.session(), token)
    except NotFound:
        return _private(render_template("credentials/link.html", status=None, revealed=None,
                                        unreadable=False), 404)
    return _private(render_template("credentials/link.html", status=found, revealed=None,
                                    unreadable=unreadable, token=token if posted else None),
                    status)


def _mine_page(revealed: credentials.Revealed | None = None, status: int = 200,
               unreadable: bool = False) -> Response:
    """The signed-in employee's pending passwords, and the one just revealed."""
    pending = credentials.pending_for(db.session(), current_user.email)
    return _private(render_template("credentials/mine.html", pending=pending,
                                    revealed=revealed, unreadable=unreadable), status)


def _unreadable(error: Conflict) -> bool:
    """Whether no configured key opens the password (and tell the operators so)."""
    if error.code != "credential_unreadable":
        return False
    logger.error("a SIP password cannot be decrypted: the web and the workers must share "
                 "SECRET_KEY or CREDENTIAL_KEYS (keep old keys listed after a rotation)")
    return True


def _private(body: str, status: int = 200) -> Response:
    """A response that no cache keeps and no referrer reveals."""
    response = make_response(body, status)
    response.headers.update(PRIVATE_HEADERS)
    return response


def _vault() -> Vault:
    """The vault the workers seal passwords with."""
    return vault(current_app)


def pending_count() -> int:
    """How many passwords wait for the signed-in user (the navigation bar's key badge)."""
    return credentials.count_pending(db.session(), current_user.email)


__all__ = ["bp", "pending_count"]
