"""Bringing the phone system's calling rules up to date after a change, with progress.

Every audited change asks for a sync in its own transaction (an outbox row). A worker takes
the sync under a lease, writes the organisation-wide plan, then every active agent's rules
in chunks, committing progress after each; rules already right are left alone, so running
a sync twice changes nothing. A sync that finds a newer one waiting leaves the work to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from itertools import islice

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from workflow import outbox
from workflow.calling import gateways
from workflow.calling.effective import Assignments, active_placements, working_hours
from workflow.models import utcnow
from workflow.models.calling import CallingSync
from workflow.ports import Cipher, PhoneSystem, PhoneSystemError

logger = logging.getLogger(__name__)

#: The actor that runs a sync (shared with the task layer).
SYNC_ACTOR = "sync_calling"
#: Agents written per transaction (and per progress step).
CHUNK = 500


def sync_key(sync_id: int) -> str:
    """Outbox key of one sync."""
    return f"calling_sync:{sync_id}"


def request_sync(session: Session, change_id: int | None) -> int:
    """Promise a sync in the caller's transaction; its id."""
    row = CallingSync(change_id=change_id, created_at=utcnow())
    session.add(row)
    session.flush()
    outbox.enqueue(session, sync_key(row.id), SYNC_ACTOR, row.id)
    return row.id


def run_sync(session: Session, sync_id: int, phone_system: Callable[[Session], PhoneSystem],
             lease: timedelta, timezone: str, cipher: Cipher) -> bool:
    """Take the sync and apply it; False when there was nothing to do or it must be retried.

    `cipher` opens the trunks' stored passwords, which the phone system needs in clear.
    """
    now = utcnow()
    taken = session.execute(
        update(CallingSync)
        .where(CallingSync.id == sync_id, CallingSync.finished_at.is_(None),
               or_(CallingSync.lease_until.is_(None), CallingSync.lease_until < now))
        .values(started_at=now, lease_until=now + lease, done=0, changed=0, last_error=None)
        .returning(CallingSync.id)
    ).first()
    if taken is None:
        session.rollback()
        return False
    outbox.mark_processed(session, sync_key(sync_id))
    if session.scalar(select(exists().where(CallingSync.id > sync_id))):
        _finish(session, sync_id, superseded=True)
        return False
    session.commit()
    phone = phone_system(session)
    try:
        phone.ensure_calling_plan(working_hours(session, timezone))
        phone.ensure_trunks(gateways.gateways(session, cipher), gateways.dids(session))
        index = Assignments(session)
        wanted = {agent.sip_username: index.effective(placement).rules
                  for placement, agent in active_placements(session)}
        _progress(session, sync_id, lease, total=len(wanted))
        names = iter(wanted)
        while chunk := list(islice(names, CHUNK)):
            changed = phone.ensure_calling({name: wanted[name] for name in chunk})
            _progress(session, sync_id, lease, done=len(chunk), changed=changed)
    except PhoneSystemError as error:
        session.rollback()
        logger.warning("calling sync %s failed: %s", sync_id, error)
        session.execute(update(CallingSync).where(CallingSync.id == sync_id).values(
            last_error=str(error)[:500], lease_until=utcnow()))
        session.commit()
        return False
    _finish(session, sync_id)
    logger.info("calling sync %s done: %s agents", sync_id, len(wanted))
    return True


def stuck_syncs(session: Session, grace: timedelta) -> list[int]:
    """Unfinished syncs nobody started within `grace`, or whose worker's lease ran out."""
    now = utcnow()
    return list(session.scalars(select(CallingSync.id).where(
        CallingSync.finished_at.is_(None),
        or_((CallingSync.lease_until.is_(None)) & (CallingSync.created_at < now - grace),
            CallingSync.lease_until < now),
    ).order_by(CallingSync.id).limit(20)))


#: A sync merged into a newer one: it did nothing of its own.
_SUPERSEDED = and_(CallingSync.superseded.is_(True), CallingSync.finished_at.is_not(None))


def recent_syncs(session: Session, limit: int = 10,
                 include_superseded: bool = True) -> list[CallingSync]:
    """The newest syncs, for their progress (without those merged into a newer one if asked)."""
    query = select(CallingSync)
    if not include_superseded:
        query = query.where(~_SUPERSEDED)
    return list(session.scalars(query.order_by(CallingSync.id.desc()).limit(limit)))


def count_superseded(session: Session) -> int:
    """How many syncs were merged into a newer one."""
    return session.scalar(select(func.count()).select_from(CallingSync).where(_SUPERSEDED)) or 0


def _progress(session: Session, sync_id: int, lease: timedelta, total: int | None = None,
              done: int = 0, changed: int = 0) -> None:
    """Count agents done (and changed), extend the lease, and commit what was written."""
    values = {"done": CallingSync.done + done, "changed": CallingSync.changed + changed,
              "lease_until": utcnow() + lease}
    if total is not None:
        values["total"] = total
    session.execute(update(CallingSync).where(CallingSync.id == sync_id).values(values))
    session.commit()


def _finish(session: Session, sync_id: int, superseded: bool = False) -> None:
    """Mark the sync finished."""
    session.execute(update(CallingSync).where(CallingSync.id == sync_id).values(
        finished_at=utcnow(), lease_until=None, superseded=superseded))
    session.commit()
