"""What a caller from outside the domain can learn: nothing about which extensions exist."""

from __future__ import annotations

from tasks.pbx.kamailio import KamailioPhoneSystem
from tests.support.pbx import Kamailio
from tests.support.sip import Phone
from workflow.domain.routing import Routing
from workflow.ports import PhoneAccount


def answer_to_outsider(kamailio: Kamailio, extension: str) -> tuple[int, str]:
    """The final status and reason an unauthenticated caller from elsewhere gets."""
    outsider = Phone("+84912000009", "", "elsewhere.example", kamailio.sip)
    try:
        outsider.send_invite(extension)
        status = outsider.outcome()
        return status, outsider.last_answer.reason
    finally:
        outsider.close()


def test_outsiders_get_the_same_refusal_for_every_extension(
    kamailio: Kamailio, pbx: KamailioPhoneSystem
) -> None:
    pbx.ensure_account(PhoneAccount("agenum1", "5961", Routing(), "mat-khau-enum"), 1)
    held_but_away = answer_to_outsider(kamailio, "5961")  # no phone registered
    nobody_holds = answer_to_outsider(kamailio, "5969")
    # Not a carrier's address, not one of ours: refused before anything is looked up
    assert held_but_away == nobody_holds == (403, "Forbidden")
