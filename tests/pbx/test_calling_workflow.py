"""Calling profiles set in agentdesk decide real calls on Kamailio, through the sync workers."""

from __future__ import annotations

from sqlalchemy import select

from tasks.runtime import runtime
from tests.support.apps import drain
from tests.support.carrier import CARRIER_HOST, TRUNK_NUMBER, identity, new_mobile, refused, rings
from tests.support.credentials import revealed_password
from tests.support.pbx import Kamailio, kamailio_app
from tests.support.sip import Phone
from tests.support.world import actor, make_world
from web.extensions import db
from workflow.calling import admin, trunks
from workflow.calling.admin import ProfileInput
from workflow.calling.trunks import TrunkInput
from workflow.domain.calling_rules import Level
from workflow.models import Agent
from workflow.models.calling import CallingSync
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket

HOTLINE = "+842838123456"


def test_a_profile_set_in_agentdesk_decides_the_agents_next_calls(
    kamailio: Kamailio, devices: list[Phone]
) -> None:
    app = kamailio_app(kamailio)
    with app.app_context():
        # Given an agent provisioned through the workflow, signed in with its own password
        world = make_world(employees_per_department=1)
        ticket = submit_ticket(db.session, actor(world.requester_id),
                               TicketRequest(TicketKind.NEW, world.employee_ids[0], "5301"))
        decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
        drain(app)
        name = db.session.scalars(select(Agent.sip_username)).one()
        phone = Phone(name, revealed_password(app, name), kamailio.domain, kamailio.sip)
        devices.append(phone)
        assert phone.register() == 200
        # The carrier's gateway, added as a trunk in agentdesk
        mobile = Phone(new_mobile(), "", "carrier.example", kamailio.sip, host=CARRIER_HOST)
        devices.append(mobile)
        trunks.save_trunk(db.session, world.admin_id, runtime(app).provisioning.vault.cipher,
                          TrunkInput("Nhà mạng", CARRIER_HOST, TRUNK_NUMBER,
                                     port=int(mobile.address.rsplit(":", 1)[1])))

        # When an admin lets its department call mobiles as the hotline, and the workers sync
        line = admin.save_hotline(db.session, world.admin_id, "028 3812 3456", "CSKH")
        mobiles = admin.save_profile(db.session, world.admin_id, ProfileInput(
            name="Di động", outgoing=True, classes=("internal", "mobile"),
            hotline_ids=(line.id,), default_hotline_id=line.id, after_hours=True))
        admin.assign_profile(db.session, world.admin_id, Level.DEPARTMENT,
                             world.department_ids[0], mobiles.id)
        drain(app)
        last = db.session.scalars(select(CallingSync).order_by(CallingSync.id.desc())).first()
        assert last is not None and last.finished_at is not None and last.done == 1

        # Then a mobile rings, dialled the Vietnamese way, showing the hotline
        phone.dial("0" + mobile.username.removeprefix("+84"))
        invite = rings(mobile, phone)
        assert invite.headers["p-asserted-identity"] == identity(HOTLINE)
        # and an international number is refused by the switchboard itself
        phone.dial("+14155552671")
        assert refused(phone) == (403, "Number Class Not Allowed")

        # When outgoing calls are switched off for the profile
        admin.save_profile(db.session, world.admin_id, ProfileInput(
            name="Di động", outgoing=False, classes=("internal", "mobile"),
            hotline_ids=(line.id,), default_hotline_id=line.id, after_hours=True),
            mobiles.id, mobiles.version)
        drain(app)

        # Then the very next call is refused
        phone.dial("0" + mobile.username.removeprefix("+84"))
        assert refused(phone) == (403, "Outgoing Calls Not Allowed")
        db.engine.dispose()
