"""What the phone system must hold for the carrier trunks and the DIDs (passwords opened)."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models.calling import Hotline, Trunk
from workflow.ports import Cipher, TrunkGateway

logger = logging.getLogger(__name__)


def list_trunks(session: Session) -> list[Trunk]:
    """Every trunk in the order they are tried."""
    return list(session.scalars(select(Trunk).order_by(Trunk.position, Trunk.id)))


def gateways(session: Session, cipher: Cipher) -> list[TrunkGateway]:
    """Every trunk as the phone system needs it, passwords opened (in memory only).

    A password no key opens any more (CREDENTIAL_KEYS changed without the old key) leaves
    its trunk out: a trunk that cannot authenticate must not be tried before the others.
    """
    found = []
    for row in list_trunks(session):
        password = None
        if row.auth_password_sealed:
            try:
                password = cipher.decrypt(row.auth_password_sealed.encode()).decode()
            except ValueError:
                logger.error("trunk %s: no key opens its password; set it again", row.name)
                continue
        found.append(TrunkGateway(
            name=row.name, address=row.address, port=row.port, transport=row.transport,
            position=row.position, number_format=row.number_format, number=row.number,
            enabled=row.enabled, auth_username=row.auth_username, auth_password=password,
            auth_realm=row.auth_realm))
    return found


def dids(session: Session) -> dict[str, str]:
    """The extension each hotline number (E.164) rings, for hotlines that ring one."""
    rows = session.execute(select(Hotline.number, Hotline.extension)
                           .where(Hotline.extension.is_not(None))).all()
    return {number: extension for number, extension in rows if extension}
