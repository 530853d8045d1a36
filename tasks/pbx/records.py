"""Reading the call records Kamailio writes (acc): an agent's recent calls, or the last call
of each agent of a page.

kamailio.cfg records every call attempt in its own database (see deploy/kamailio): `acc`
holds each INVITE it relayed, answered (2xx) or not, and each BYE; `missed_calls` the calls
it refused itself (class of service), with the reason it gave; `acc_cdrs` each answered
call's duration once it ended. Every row names the agents its dialog involves
(`caller_agent`, `callee_agent`), so one agent's calls are found both ways by index.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

from workflow.ports import CallDirection, CallOutcome, CallRecord

#: The last :limit call attempts of each agent of :names, newest first, in one statement
#: whatever the number of agents: for each agent, the newest :limit rows of each of the four
#: indexes (caller_agent, time_exact) and (callee_agent, time_exact) of both tables, so an
#: agent with years of calls costs what a new one does. The duration is the CDR's; for a
#: call whose dialog left none (a proxy restarted meanwhile), the time from the answer to
#: its BYE. An incoming call from a colleague names the colleague's extension.
RECENT_CALLS = text("""
    SELECT agents.name, attempts.kind, attempts.sip_code, attempts.sip_reason,
           attempts.time_exact, attempts.caller_agent, attempts.callee,
           COALESCE((SELECT alias_username FROM dbaliases
                     WHERE dbaliases.username = attempts.caller_agent
                     AND attempts.caller_agent <> '' LIMIT 1), attempts.caller) AS caller,
           COALESCE(
               (SELECT duration FROM acc_cdrs WHERE acc_cdrs.callid = attempts.callid
                ORDER BY id DESC LIMIT 1),
               (SELECT MAX(bye.time_exact) - attempts.time_exact FROM acc AS bye
                WHERE bye.callid = attempts.callid AND bye.method = 'BYE'
                AND attempts.kind = 'acc' AND left(attempts.sip_code, 1) = '2')) AS duration
    FROM (SELECT DISTINCT name FROM unnest(CAST(:names AS text[])) AS names (name))
         AS agents (name)
    CROSS JOIN LATERAL (
        (SELECT 'acc' AS kind, callid, sip_code, sip_reason, time_exact, caller, callee,
                caller_agent
         FROM acc WHERE method = 'INVITE' AND caller_agent = agents.name
         ORDER BY time_exact DESC LIMIT :limit)
        UNION ALL
        (SELECT 'acc', callid, sip_code, sip_reason, time_exact, caller, callee, caller_agent
         FROM acc WHERE method = 'INVITE' AND callee_agent = agents.name
         AND caller_agent <> agents.name
         ORDER BY time_exact DESC LIMIT :limit)
        UNION ALL
        (SELECT 'refused', callid, sip_code, sip_reason, time_exact, caller, callee,
                caller_agent
         FROM missed_calls WHERE caller_agent = agents.name
         ORDER BY time_exact DESC LIMIT :limit)
        UNION ALL
        (SELECT 'refused', callid, sip_code, sip_reason, time_exact, caller, callee,
                caller_agent
         FROM missed_calls WHERE callee_agent = agents.name AND caller_agent <> agents.name
         ORDER BY time_exact DESC LIMIT :limit)
        ORDER BY time_exact DESC LIMIT :limit
    ) AS attempts
    ORDER BY agents.name, attempts.time_exact DESC
""")


def recent_calls(connection: Connection, sip_username: str, limit: int) -> list[CallRecord]:
    """The agent's last `limit` call attempts, made or received, newest first."""
    if limit <= 0:
        return []
    rows = connection.execute(RECENT_CALLS, {"names": [sip_username], "limit": limit}).all()
    return [_record(row) for row in rows]


def last_calls(connection: Connection, sip_usernames: Sequence[str]) -> dict[str, CallRecord]:
    """Each agent's newest call attempt, made or received (agents with none are absent)."""
    if not sip_usernames:
        return {}
    rows = connection.execute(RECENT_CALLS, {"names": list(sip_usernames), "limit": 1}).all()
    return {row[0]: _record(row) for row in rows}


def _record(row: Sequence[Any]) -> CallRecord:
    """One row of RECENT_CALLS as its agent (the row's first column) sees it."""
    sip_username, kind, code, reason, at, caller_agent, callee, caller, duration = row
    direction = CallDirection.OUT if caller_agent == sip_username else CallDirection.IN
    code_number = int(code) if str(code).isdigit() else 0
    if kind == "refused":
        outcome = CallOutcome.REFUSED
    elif 200 <= code_number < 300:
        outcome = CallOutcome.ANSWERED
    else:
        outcome = CallOutcome.MISSED
    return CallRecord(
        at=datetime.fromtimestamp(float(at), UTC),
        direction=direction,
        other_party=callee if direction is CallDirection.OUT else caller,
        outcome=outcome, sip_code=code_number, reason=reason,
        duration=(float(duration) if duration is not None
                  and outcome is CallOutcome.ANSWERED else None))
