"""Calling profiles (list, create, edit) and the company numbers (hotlines) they may present."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from web.extensions import db
from web.ui.access import actor, signed_in
from web.ui.args import whole_number
from web.ui.calling.blueprint import bp
from web.ui.calling.forms import HotlineForm, ProfileForm
from web.ui.calling.shared import show_calling_refusal, target_text
from web.ui.calling.syncs import latest_syncs
from web.ui.form_errors import show_refusal
from web.ui.labels import LEVEL_NAMES
from workflow.calling import admin
from workflow.calling.queries import (
    AgentLink,
    get_profile,
    hotlines_by_number,
    listed_assignments,
    profiles_by_hotline,
    profiles_with_hotlines,
)
from workflow.domain.calling_rules import Assigned
from workflow.domain.errors import Conflict, RuleViolation
from workflow.domain.rules import Role
from workflow.models.calling import CallingProfile, Hotline
from workflow.people.queries import department_names


@bp.route("/admin/calling")
@signed_in(Role.ADMIN)
def profiles() -> Any:
    """Every calling profile with its settings and where it is assigned; the latest sync."""
    session = db.session()
    rows = profiles_with_hotlines(session)
    assigned: dict[int, list[str]] = defaultdict(list)
    departments = department_names(session)
    for target, each in listed_assignments(session):
        assigned[each.profile.id].append(_assigned_text(target, each, departments))
    return render_template("calling/profiles.html", profiles=rows, assigned=assigned,
                           syncs=latest_syncs(session, 1))


def _assigned_text(target: int | None, assigned: Assigned, departments: Mapping[int, str]
                   ) -> str:
    """An assignment as "Phòng ban Hà Nội — Kinh doanh" (the level, then the target)."""
    name = target_text(target, assigned, departments)
    level = str(LEVEL_NAMES[assigned.level.value])
    return f"{level} {name}" if name else level


@bp.route("/admin/calling/profiles/new", methods=["GET", "POST"], defaults={"profile_id": None})
@bp.route("/admin/calling/profiles/<int:profile_id>", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def profile(profile_id: int | None) -> Any:
    """Create a profile, or edit one at the version the page was read at."""
    session = db.session()
    found = get_profile(session, profile_id) if profile_id else None
    form = ProfileForm()
    lines = hotlines_by_number(session)
    form.hotline_ids.choices = [SelectChoice(str(line.id), _hotline_text(line)) for line in lines]
    form.default_hotline_id.choices = [SelectChoice("", _("— Không có —")), *(
        SelectChoice(str(line.id), _hotline_text(line)) for line in lines)]
    if not form.is_submitted():
        _fill_profile(form, found)
    refused: list[AgentLink] = []
    if form.validate_on_submit():
        try:
            saved = admin.save_profile(session, actor().user_id, _profile_input(form),
                                       profile_id, _version(form) if profile_id else None)
        except (RuleViolation, Conflict) as refusal:
            session.rollback()
            refused = show_calling_refusal(form, refusal)
        else:
            flash(_("Đã lưu hồ sơ gọi %(name)s.", name=saved.name), "success")
            return redirect(url_for("calling_pages.profiles"))
    return render_template("calling/profile.html", form=form, profile=found, refused=refused,
                           has_hotlines=bool(lines))


def _fill_profile(form: ProfileForm, found: CallingProfile | None) -> None:
    """Put a stored profile's settings in the form (a new one allows internal calls)."""
    if found is None:
        form.classes.data = ["internal"]
        return
    form.name.data, form.outgoing.data = found.name, found.outgoing
    form.classes.data = list(found.number_classes)
    form.hotline_ids.data = [line.id for line in found.hotlines]
    form.default_hotline_id.data = found.default_hotline_id
    form.max_internal_seconds.data = found.max_internal_seconds
    form.max_outgoing_seconds.data = found.max_outgoing_seconds
    form.after_hours.data = found.after_hours
    form.external_forwarding.data = found.external_forwarding
    form.version.data = str(found.version)


def _profile_input(form: ProfileForm) -> admin.ProfileInput:
    """The service's input from the posted form."""
    return admin.ProfileInput(
        name=form.name.data or "", outgoing=bool(form.outgoing.data),
        classes=tuple(form.classes.data or ()), hotline_ids=tuple(form.hotline_ids.data or ()),
        default_hotline_id=form.default_hotline_id.data,
        max_internal_seconds=form.max_internal_seconds.data,
        max_outgoing_seconds=form.max_outgoing_seconds.data,
        after_hours=bool(form.after_hours.data),
        external_forwarding=bool(form.external_forwarding.data))


def _version(form: ProfileForm) -> int:
    """The version the edited profile was read at (0, which never matches, when missing)."""
    return whole_number(form.version.data, 0) or 0


def _hotline_text(line: Hotline) -> str:
    """A hotline as pickers show it: its number and label."""
    return f"{line.number} — {line.label}" if line.label else line.number


@bp.route("/admin/calling/hotlines", methods=["GET", "POST"])
@signed_in(Role.ADMIN)
def hotlines() -> Any:
    """The company numbers (E.164), the profiles using each, and a form to add one."""
    session = db.session()
    form = HotlineForm()
    if form.validate_on_submit():
        try:
            saved = admin.save_hotline(session, actor().user_id, form.number.data or "",
                                       form.label.data or "",
                                       extension=form.extension.data or None)
        except RuleViolation as violation:
            session.rollback()
            show_refusal(form, violation)
        else:
            flash(_("Đã thêm hotline %(number)s.", number=saved.number), "success")
            return redirect(url_for("calling_pages.hotlines"))
    return render_template("calling/hotlines.html", form=form, hotlines=hotlines_by_number(session),
                           used_by=profiles_by_hotline(session))
