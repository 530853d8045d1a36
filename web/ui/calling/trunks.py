"""Carrier trunks (list in order, add, edit, enable/disable, move, delete) and hotline edits."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from web.composition import vault
from web.extensions import db
from web.ui.access import actor, signed_in
from web.ui.calling.blueprint import bp
from web.ui.calling.forms import HotlineForm, TrunkForm
from web.ui.form_errors import show_refusal
from web.ui.forms import FlaskForm
from workflow.calling import admin, gateways, trunks
from workflow.calling.queries import get_hotline
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound, RuleViolation
from workflow.domain.rules import Role
from workflow.ports import Cipher


@bp.route("/admin/calling/trunks")
@signed_in(Role.ADMIN)
def trunk_list() -> Any:
    """Every trunk in the order they are tried, with the actions on each."""
    return render_template("calling/trunks.html", trunks=gateways.list_trunks(db.session()),
                           form=FlaskForm())


@bp.route("/admin/calling/trunks/new", methods=["GET", "POST"], defaults={"trunk_id": None})
@bp.route("/admin/calling/trunks/<int:trunk_id>", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def trunk(trunk_id: int | None) -> Any:
    """Add a trunk, or edit one (an empty password keeps the stored one)."""
    session = db.session()
    found = trunks.get_trunk(session, trunk_id) if trunk_id else None
    form = TrunkForm()
    if not form.is_submitted() and found is not None:
        for name, value in trunks.input_of(found).__dict__.items():
            if name != "auth_password":
                getattr(form, name).data = value
    if form.validate_on_submit():
        data = trunks.TrunkInput(
            name=form.name.data or "", address=form.address.data or "",
            number=form.number.data or "", port=form.port.data, transport=form.transport.data,
            number_format=form.number_format.data, position=form.position.data,
            auth_username=form.auth_username.data or "",
            auth_password=form.auth_password.data or "", auth_realm=form.auth_realm.data or "",
            enabled=bool(form.enabled.data))
        try:
            saved = trunks.save_trunk(session, actor().user_id, _cipher(), data, trunk_id)
        except RuleViolation as violation:
            session.rollback()
            show_refusal(form, violation)
        else:
            flash(_("Đã lưu trunk %(name)s.", name=saved.name), "success")
            return redirect(url_for("calling_pages.trunk_list"))
    return render_template("calling/trunk.html", form=form, trunk=found)


@bp.route("/admin/calling/trunks/<int:trunk_id>/<action>", methods=["POST"])
@signed_in(Role.ADMIN)
def trunk_action(trunk_id: int, action: str) -> Any:
    """Move a trunk up or down, enable or disable it, or delete it (confirmed on the page)."""
    session = db.session()
    found = trunks.get_trunk(session, trunk_id)
    if not FlaskForm().validate_on_submit():
        return redirect(url_for("calling_pages.trunk_list"))
    user_id, name = actor().user_id, found.name
    if action in (trunks.Step.UP, trunks.Step.DOWN):
        trunks.step_trunk(session, user_id, trunk_id, trunks.Step(action))
    elif action in ("enable", "disable"):
        trunks.set_enabled(session, user_id, trunk_id, action == "enable")
    elif action == "delete" and request.form.get("confirm") == "yes":
        trunks.delete_trunk(session, user_id, trunk_id)
        flash(_("Đã xoá trunk %(name)s.", name=name), "success")
    elif action == "delete":
        return render_template("calling/trunk_delete.html", trunk=found, form=FlaskForm())
    else:
        raise NotFound(ErrorCode.TRUNK_NOT_FOUND, trunk_id=trunk_id)
    return redirect(url_for("calling_pages.trunk_list"))


@bp.route("/admin/calling/hotlines/<int:hotline_id>", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def hotline(hotline_id: int) -> Any:
    """Change a hotline: its number, label and the extension an incoming call rings."""
    session = db.session()
    found = get_hotline(session, hotline_id)
    form = HotlineForm()
    if not form.is_submitted():
        form.number.data, form.label.data = found.number, found.label
        form.extension.data = found.extension or ""
    if form.validate_on_submit():
        try:
            admin.save_hotline(session, actor().user_id, form.number.data or "",
                               form.label.data or "", hotline_id, form.extension.data or None)
        except RuleViolation as violation:
            session.rollback()
            show_refusal(form, violation)
        else:
            flash(_("Đã lưu hotline %(number)s.", number=found.number), "success")
            return redirect(url_for("calling_pages.hotlines"))
    return render_template("calling/hotline.html", form=form, hotline=found)


def _cipher() -> Cipher:
    """The app's cipher, which seals the trunks' passwords."""
    return vault(current_app).cipher
