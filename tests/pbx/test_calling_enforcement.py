"""Calling profiles (class of service) enforced by the shipped kamailio.cfg, with SIP devices.

An agent's own INVITE is checked by Kamailio before it is relayed: the `cos_*` preferences
agentdesk writes for the agent, the number classes of the dialplan agentdesk writes from
phonenumbers' metadata, and the working time of `agentdesk_calendar` (matched by tmrec, in
UTC: the launcher starts Kamailio with TZ=UTC). Outside numbers are reached through a carrier's
trunk: a test phone plays its gateway (tests/support/carrier.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import psycopg
import pytest

from tasks.pbx.calendar import calendar_rows
from tasks.pbx.kamailio import KamailioPhoneSystem
from tests.support.carrier import (
    CARRIER_HOST,
    TRUNK_NUMBER,
    gateway_of,
    identity,
    map_hotline,
    new_mobile,
    refused,
    rings,
    use_gateways,
)
from tests.support.kamailio_profiles import (
    HOTLINE,
    SALES,
    agent,
    load_dialplan,
    outgoing,
    set_profile,
)
from tests.support.pbx import Kamailio
from tests.support.sip import Message, Phone
from workflow.domain.calling_rules import WorkingHours

#: Seconds in a day, as tmrec counts a daily window.
DAY = 86400


@pytest.fixture(scope="module", autouse=True)
def dialplan(kamailio: Kamailio) -> None:
    """agentdesk's dialplan rules in Kamailio's `dialplan` table, loaded by Kamailio."""
    load_dialplan(kamailio)


@pytest.fixture(autouse=True)
def calendar(kamailio: Kamailio) -> Iterator[None]:
    """No working time unless a test writes some (it is the whole switchboard's)."""
    set_calendar(kamailio)
    yield
    set_calendar(kamailio)


def set_calendar(kamailio: Kamailio, *rows: tuple[str, str]) -> None:
    """Make `agentdesk_calendar` exactly these (kind, recurrence) rows."""
    with psycopg.connect(kamailio.database_url, autocommit=True) as connection:
        connection.execute("DELETE FROM agentdesk_calendar")
        connection.cursor().executemany(
            "INSERT INTO agentdesk_calendar (kind, rec) VALUES (%s, %s)", rows)


def number(kamailio: Kamailio, made: list[Phone], e164: str) -> Phone:
    """The carrier's gateway, the trunk's only one, standing for the number `e164` (or a
    short code such as 113): what the proxy sends to that number reaches it."""
    made.append(Phone(e164, "", "carrier.example", kamailio.sip, host=CARRIER_HOST))
    use_gateways(kamailio, gateway_of(made[-1]))
    return made[-1]


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}{seconds % 3600 // 60:02d}{seconds % 60:02d}"


def daily(start: int, seconds: int) -> list[tuple[str, str]]:
    """`work` rows for a daily window of `seconds` from `start` seconds after UTC midnight.

    tmrec matches a window within its own day, so one that crosses midnight is two rows.
    """
    start %= DAY
    first = min(seconds, DAY - start)
    windows = [(start, first)] + ([(0, seconds - first)] if seconds > first else [])
    return [("work", f"20200101T{_hms(at)}|PT{length}S|daily") for at, length in windows]


def seconds_today() -> int:
    """Seconds since UTC midnight now."""
    now = datetime.now(UTC)
    return now.hour * 3600 + now.minute * 60 + now.second


def around_now() -> list[tuple[str, str]]:
    """Work from an hour ago until an hour from now, today, as agentdesk writes the week."""
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    start, end = (datetime.now(zone) + timedelta(hours=hours) for hours in (-1, 1))
    periods = ([(start.weekday(), start.time(), end.time())] if start.date() == end.date()
               else [(start.weekday(), start.time(), clock.max),
                     (end.weekday(), clock.min, end.time())])
    return calendar_rows(WorkingHours(periods=tuple(periods)))


def hours_away() -> list[tuple[str, str]]:
    """Work every day for an hour, starting six hours from now: now is out of hours."""
    return daily(seconds_today() + 6 * 3600, 3600)


# ---- caller ID ----------------------------------------------------------------------------

def test_an_allowed_mobile_call_rings_the_number_as_the_default_hotline(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos1", "5911")
    set_profile(kamailio, "agcos1", **outgoing())
    mobile = new_mobile()
    phone = number(kamailio, devices, mobile)
    # The agent's own claim of identity is never relayed
    caller.dial("0" + mobile.removeprefix("+84"),
                f"P-Asserted-Identity: <sip:+84999999999@{kamailio.domain}>\r\n")
    invite = rings(phone, caller)
    assert invite.first_line.startswith(f"INVITE sip:{mobile}@")  # dialled 09…, sent in E.164
    assert invite.headers.get("p-asserted-identity") == identity(HOTLINE)


def test_a_requested_hotline_is_shown_instead_of_the_default(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos2", "5912")
    set_profile(kamailio, "agcos2", **outgoing())
    mobile = new_mobile()
    phone = number(kamailio, devices, mobile)
    caller.dial(mobile, f"P-Preferred-Identity: <sip:{SALES}@{kamailio.domain}>\r\n")
    invite = rings(phone, caller)
    assert invite.headers.get("p-asserted-identity") == identity(SALES)
    assert "p-preferred-identity" not in invite.headers


def test_a_caller_id_not_among_the_hotlines_is_refused(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos3", "5913")
    set_profile(kamailio, "agcos3", **outgoing())
    phone = number(kamailio, devices, new_mobile())
    caller.dial(phone.username, f"P-Preferred-Identity: <sip:+84912000000@{kamailio.domain}>\r\n")
    assert refused(caller) == (403, "Caller ID Not Allowed")
    assert phone.ring(timeout=0.5) is None


def test_without_any_caller_id_an_outside_call_is_refused(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos4", "5914")
    profile = outgoing(cos_callerids="")
    del profile["cos_callerid"]
    set_profile(kamailio, "agcos4", **profile)
    phone = number(kamailio, devices, new_mobile())
    caller.dial(phone.username)
    assert refused(caller) == (403, "No Caller ID")


# ---- number classes -----------------------------------------------------------------------

def test_with_outgoing_calls_off_a_number_is_refused(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos5", "5915")
    set_profile(kamailio, "agcos5", **outgoing(cos_out="0"))
    phone = number(kamailio, devices, new_mobile())
    caller.dial(phone.username)
    assert refused(caller) == (403, "Outgoing Calls Not Allowed")
    assert phone.ring(timeout=0.5) is None


def test_a_class_the_profile_does_not_allow_is_refused(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos6", "5916")
    set_profile(kamailio, "agcos6", **outgoing(cos_classes="mobile"))
    abroad = number(kamailio, devices, "+14155552671")
    caller.dial("0014155552671")
    assert refused(caller) == (403, "Number Class Not Allowed")
    assert abroad.ring(timeout=0.5) is None


def test_what_is_no_number_is_not_found(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos7", "5917")
    set_profile(kamailio, "agcos7", **outgoing())
    caller.dial("0113")  # 113 behind the trunk prefix: agentdesk says no number either
    assert refused(caller) == (404, "Number Not Valid")


@pytest.mark.parametrize("profile", ["outgoing off", "no profile"])
def test_an_emergency_number_rings_whatever_the_profile(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone], profile: str
) -> None:
    case = 1 if profile == "outgoing off" else 2
    caller = agent(kamailio, pbx, devices, f"agcos8{case}", f"592{case}")
    if profile == "outgoing off":
        set_profile(kamailio, caller.username, **outgoing(cos_out="0", cos_after_hours="0"))
    police = number(kamailio, devices, "113")
    caller.dial("+84113")  # the bare code, however written; no working time applies either
    invite = rings(police, caller)
    assert invite.first_line.startswith("INVITE sip:113@")
    # Without a hotline of the caller's, the trunk's own number is shown
    expected = identity(HOTLINE if profile == "outgoing off" else TRUNK_NUMBER)
    assert invite.headers.get("p-asserted-identity") == expected


def test_without_a_trunk_an_allowed_number_is_unavailable(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos9", "5919")
    set_profile(kamailio, "agcos9", **outgoing())
    use_gateways(kamailio)
    caller.dial(new_mobile())
    assert refused(caller) == (503, "No Trunk Available")


# ---- working hours ------------------------------------------------------------------------

def test_outside_working_hours_an_outside_call_is_refused(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos10", "5930")
    set_profile(kamailio, "agcos10", **outgoing(cos_after_hours="0"))
    phone = number(kamailio, devices, new_mobile())
    set_calendar(kamailio, *hours_away())
    caller.dial(phone.username)
    assert refused(caller) == (403, "Outside Working Hours")
    assert phone.ring(timeout=0.5) is None


def test_inside_working_hours_an_outside_call_rings(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos11", "5931")
    set_profile(kamailio, "agcos11", **outgoing(cos_after_hours="0"))
    phone = number(kamailio, devices, new_mobile())
    set_calendar(kamailio, *hours_away(), *around_now())
    caller.dial(phone.username)
    rings(phone, caller)


def test_on_a_public_holiday_an_outside_call_is_refused(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos12", "5932")
    set_profile(kamailio, "agcos12", **outgoing(cos_after_hours="0"))
    phone = number(kamailio, devices, new_mobile())
    # The holidays exactly as agentdesk writes them (Vietnamese days, in UTC); yesterday and
    # tomorrow too, so that midnight passing during the test changes nothing.
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    days_off = frozenset(today + timedelta(days=shift) for shift in (-1, 0, 1))
    holidays = calendar_rows(WorkingHours(holidays=days_off))
    assert {kind for kind, _ in holidays} == {"holiday"}
    set_calendar(kamailio, *around_now(), *holidays)
    caller.dial(phone.username)
    assert refused(caller) == (403, "Outside Working Hours")


def test_a_profile_allowed_after_hours_calls_out_at_any_hour(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos13", "5933")
    set_profile(kamailio, "agcos13", **outgoing(cos_after_hours="1"))
    phone = number(kamailio, devices, new_mobile())
    set_calendar(kamailio, *hours_away())
    caller.dial(phone.username)
    rings(phone, caller)


# ---- internal calls -----------------------------------------------------------------------

def test_an_agent_calls_a_colleagues_extension(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos14", "5940")
    set_profile(kamailio, "agcos14", cos_out="0", cos_classes="internal")
    colleague = agent(kamailio, pbx, devices, "agcos15", "5941")
    assert colleague.register() == 200
    # Claims of another identity, in any of the headers phones show, are never relayed
    caller.dial("5941", f"P-Asserted-Identity: <sip:{HOTLINE}@{kamailio.domain}>\r\n"
                        f"Remote-Party-ID: <sip:{HOTLINE}@{kamailio.domain}>\r\n")
    invite = rings(colleague, caller)
    assert "p-asserted-identity" not in invite.headers
    assert "remote-party-id" not in invite.headers


def test_without_internal_calls_an_extension_is_refused(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos16", "5942")
    set_profile(kamailio, "agcos16", **outgoing(cos_classes="mobile"))
    colleague = agent(kamailio, pbx, devices, "agcos17", "5943")
    assert colleague.register() == 200
    caller.dial("5943")
    assert refused(caller) == (403, "Number Class Not Allowed")
    assert colleague.ring(timeout=0.5) is None


def test_a_carriers_call_to_a_hotline_reaches_its_agent_unchecked(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    agent(kamailio, pbx, devices, "agcos18", "5944")
    set_profile(kamailio, "agcos18", cos_out="0", cos_classes="")
    callee = devices[-1]
    assert callee.register() == 200
    map_hotline(kamailio, HOTLINE, "5944")
    # The carrier's trunk: trusted by its address, so neither challenged nor held to a profile
    trunk = number(kamailio, devices, "+84912000001")
    trunk.send_invite("02838123456")  # the hotline, as the carrier writes it
    invite = rings(callee, trunk)
    assert invite.first_line.startswith("INVITE sip:agcos18@")


# ---- the longest call ---------------------------------------------------------------------

def _ended_by_the_proxy(caller: Phone, callee: Phone, invite: Message) -> None:
    """Pick up, confirm, and wait for the proxy's BYE on both sides."""
    callee.accept(invite)
    assert caller.outcome() == 200
    caller.ack()
    answered = time.monotonic()
    # The caller's phone answers its BYE only once the callee has had its own, as a phone a
    # network away would: Kamailio 5.6 sends the two BYEs one after the other, and a 200 OK
    # to the first that it handles before sending the second ends the dialog, so the second
    # is never sent (kamailio/kamailio#4169). A test phone on loopback answers that fast.
    bye_to_caller = caller.hung_up(timeout=10.0, confirm=False)
    assert bye_to_caller is not None, "the proxy never ended the call"
    # The limit ran out (the dialog timer counts whole seconds): nothing else ended it
    assert time.monotonic() - answered >= 0.5
    assert callee.hung_up(timeout=5.0) is not None, "the other side was never hung up"
    caller.confirm_bye(bye_to_caller)
    assert bye_to_caller.header("call-id") == caller.last_answer.header("call-id")


def test_an_outside_call_is_ended_after_the_longest_time_allowed(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos19", "5950")
    set_profile(kamailio, "agcos19", **outgoing(cos_max_out="2"))
    phone = number(kamailio, devices, new_mobile())
    caller.dial(phone.username)
    invite = phone.ring()
    assert invite is not None
    _ended_by_the_proxy(caller, phone, invite)


def test_an_internal_call_is_ended_after_the_longest_time_allowed(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agcos20", "5951")
    set_profile(kamailio, "agcos20", cos_out="0", cos_classes="internal", cos_max_int="2")
    colleague = agent(kamailio, pbx, devices, "agcos21", "5952")
    assert colleague.register() == 200
    caller.dial("5952")
    invite = colleague.ring()
    assert invite is not None
    _ended_by_the_proxy(caller, colleague, invite)
