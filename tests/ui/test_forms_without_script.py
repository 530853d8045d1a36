"""Forms that must hold without JavaScript: cancelling asks first, Enter files nothing."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.support.pages import csrf_token, page_of, state_of
from tests.support.world import World, submit

QUESTION = "Huỷ phiếu #{id}? Phiếu đã huỷ không mở lại được."


def test_a_cancel_without_the_answer_asks_on_the_page_and_cancels_nothing(
    browsers: dict[str, FlaskClient], world: World
) -> None:
    ticket = submit(world, extension="5001")
    requester = browsers["requester"]
    token = csrf_token(requester, f"/tickets/{ticket.id}")
    asked = requester.post(f"/tickets/{ticket.id}/cancel", data={"csrf_token": token})
    assert asked.status_code == 302
    assert asked.headers["Location"] == f"/tickets/{ticket.id}?confirm=cancel#cancel-ticket"
    assert state_of(ticket.id) == "submitted"
    page = page_of(requester, f"/tickets/{ticket.id}?confirm=cancel")
    question = page[page.index('id="cancel-ticket"'):]
    question = question[:question.index("</form>")]
    assert QUESTION.format(id=ticket.id) in question
    assert 'name="confirmed" value="y"' in question and "Có, huỷ phiếu" in question
    assert f'href="/tickets/{ticket.id}">Không, giữ phiếu</a>' in question
    # Saying no is only a link back; saying yes cancels
    assert state_of(ticket.id) == "submitted"
    requester.post(f"/tickets/{ticket.id}/cancel", data={"csrf_token": token, "confirmed": "y"})
    assert state_of(ticket.id) == "cancelled"


def test_the_ticket_page_offers_cancelling_with_the_question_for_the_script(
    browsers: dict[str, FlaskClient], world: World
) -> None:
    ticket = submit(world, extension="5001")
    page = page_of(browsers["requester"], f"/tickets/{ticket.id}")
    cancel = page[page.index('id="cancel-ticket"'):]
    cancel = cancel[:cancel.index("</form>")]
    assert f'data-confirm="{QUESTION.format(id=ticket.id)}"' in cancel
    assert 'name="confirmed"' not in cancel  # the answer is the script's, or the page's
    # Someone who may not cancel is not asked either
    other = page_of(browsers["approver"], f"/tickets/{ticket.id}?confirm=cancel")
    assert 'id="cancel-ticket"' not in other


def test_the_setup_forms_default_button_is_disabled_so_enter_files_nothing(
    browsers: dict[str, FlaskClient],
) -> None:
    page = page_of(browsers["requester"], "/agents/setup")
    form = page[page.index('id="setup-form"'):]
    form = form[:form.index("</form>")]
    buttons = re.findall(r'<(?:button|input)\b[^>]*type="submit"[^>]*>', form)
    assert len(buttons) == 3
    first = buttons[0]
    assert " disabled" in first and " hidden" in first
    assert all(" disabled" not in button for button in buttons[1:])
    assert 'name="submit_exit"' in buttons[1] and 'name="submit_new"' in buttons[2]
