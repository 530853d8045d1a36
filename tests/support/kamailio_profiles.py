"""Agents and their calling profiles in the test Kamailio, as agentdesk writes them."""

from __future__ import annotations

import psycopg

from tasks.pbx.dialplan import dialplan_rules
from tasks.pbx.kamailio import KamailioPhoneSystem
from tests.support.pbx import Kamailio
from tests.support.processes import wait_for
from tests.support.sip import Phone
from workflow.domain.routing import Routing
from workflow.ports import PhoneAccount, PhoneSystemError

SECRET = "mat-khau-sip-thu"
#: The company's numbers an agent may present (Ho Chi Minh City and Hanoi landlines).
HOTLINE, SALES = "+842838123456", "+842437654321"


def set_profile(kamailio: Kamailio, username: str, **prefs: str) -> None:
    """The agent's `cos_*` preferences, as agentdesk writes them (none: no profile at all)."""
    with psycopg.connect(kamailio.database_url, autocommit=True) as connection:
        connection.execute("DELETE FROM usr_preferences WHERE username = %s "
                           "AND attribute LIKE 'cos\\_%%'", (username,))
        connection.cursor().executemany(
            "INSERT INTO usr_preferences (uuid, username, domain, attribute, type, value) "
            "VALUES ('', %s, '', %s, 0, %s)",
            [(username, attribute, value) for attribute, value in prefs.items()])


def outgoing(**overrides: str) -> dict[str, str]:
    """A profile that may call mobiles and landlines at any hour, as the hotline by default."""
    return {"cos_out": "1", "cos_classes": "internal,landline,mobile",
            "cos_callerids": f"{HOTLINE},{SALES}", "cos_callerid": HOTLINE,
            "cos_after_hours": "1", **overrides}


def agent(kamailio: Kamailio, pbx: KamailioPhoneSystem, made: list[Phone], username: str,
          extension: str) -> Phone:
    """An agent account (subscriber and extension, app_web routing) and a phone of it."""
    pbx.ensure_account(PhoneAccount(username, extension, Routing(), SECRET), 1)
    made.append(Phone(username, SECRET, kamailio.domain, kamailio.sip))
    return made[-1]


def _dialplan_reloaded(kamailio: Kamailio) -> bool | None:
    """Ask Kamailio to reload the dialplan; None while it refuses (one reload per 5 s)."""
    try:
        kamailio.rpc("dialplan.reload")
    except PhoneSystemError:
        return None
    return True


def load_dialplan(kamailio: Kamailio) -> None:
    """agentdesk's dialplan rules in Kamailio's `dialplan` table, loaded by Kamailio."""
    rows = [(rule.dpid, rule.pr, rule.match_exp, rule.subst_exp, rule.repl_exp, rule.attrs)
            for rule in dialplan_rules()]
    with psycopg.connect(kamailio.database_url, autocommit=True) as connection:
        connection.execute("DELETE FROM dialplan")
        connection.cursor().executemany(
            "INSERT INTO dialplan (dpid, pr, match_op, match_exp, match_len, subst_exp, "
            "repl_exp, attrs) VALUES (%s, %s, 1, %s, 0, %s, %s, %s)", rows)
    wait_for(lambda: _dialplan_reloaded(kamailio), "dialplan.reload", timeout=10)
    assert "mobile" in str(kamailio.rpc("dialplan.translate", 2, "+84912345678"))
