"""A refusal of the domain lands on the form field it names, in the reader's language."""

from __future__ import annotations

from flask import Flask
from wtforms import Form, StringField

from web.ui.form_errors import refusal_text, show_refusal
from workflow.domain.errors import Conflict, NotFound, Problem, RuleViolation


class ContactForm(Form):
    """A form with two fields, as a page would have."""

    name = StringField()
    email = StringField()


def refusal() -> RuleViolation:
    """A refusal naming a field of the form and one the form does not have."""
    return RuleViolation({
        "email": [Problem("extension_not_found", {"extension": "5001"})],
        "reserved": [Problem("reserved_digits")],
    })


def test_a_problem_naming_a_field_lands_on_that_field() -> None:
    form = ContactForm()

    show_refusal(form, refusal(), language="vi")

    assert form.email.errors == ["Không có agent đang hoạt động với số máy lẻ 5001."]
    assert list(form.name.errors) == []


def test_a_problem_naming_no_field_of_the_form_goes_above_the_form() -> None:
    form = ContactForm()

    show_refusal(form, refusal(), language="vi")

    assert form.form_errors == [
        "Số giữ lại phải là các số máy lẻ hợp lệ, cách nhau bằng dấu phẩy."]


def test_a_problem_naming_no_field_goes_on_the_fallback_field_when_one_is_given() -> None:
    form = ContactForm()

    show_refusal(form, refusal(), fallback="name", language="en")

    assert form.name.errors == ["Reserved numbers must be extensions, separated by commas."]
    assert form.email.errors == ["No active agent has extension 5001."]
    assert form.form_errors == []


def test_every_message_goes_on_the_chosen_field_when_one_is_given() -> None:
    form = ContactForm()

    show_refusal(form, refusal(), field="name", language="en")

    assert form.name.errors == ["No active agent has extension 5001.",
                                "Reserved numbers must be extensions, separated by commas."]
    assert list(form.email.errors) == []
    assert form.form_errors == []


def test_problem_names_can_be_mapped_to_the_form_s_own_field_names() -> None:
    form = ContactForm()

    show_refusal(form, refusal(), field_of={"reserved": "name"}, language="en")

    # "email" is not listed, so it names no field even though the form has one.
    assert form.name.errors == ["Reserved numbers must be extensions, separated by commas."]
    assert list(form.email.errors) == []
    assert form.form_errors == ["No active agent has extension 5001."]


def test_an_empty_mapping_puts_every_message_above_the_form() -> None:
    form = ContactForm()

    show_refusal(form, refusal(), field_of={}, language="en")

    assert form.form_errors == ["No active agent has extension 5001.",
                                "Reserved numbers must be extensions, separated by commas."]


def test_messages_add_to_those_the_form_already_shows() -> None:
    form = ContactForm()
    form.validate()
    form.email.errors.append("Đã có lỗi.")

    show_refusal(form, refusal(), language="vi")

    assert form.email.errors == ["Đã có lỗi.", "Không có agent đang hoạt động với số máy lẻ 5001."]


def test_a_conflict_or_a_missing_thing_is_one_message_above_the_form() -> None:
    form = ContactForm()

    show_refusal(form, Conflict(), language="en")
    show_refusal(form, NotFound("profile_not_found", profile_id=7), language="vi")

    assert form.form_errors == ["The data just changed; reload and try again.",
                                "Không tìm thấy hồ sơ gọi này."]


def test_a_missing_thing_goes_on_the_chosen_field_when_one_is_given() -> None:
    form = ContactForm()

    show_refusal(form, NotFound("extension_not_found", extension="5009"), field="email",
                 language="en")

    assert form.email.errors == ["No active agent has extension 5009."]
    assert form.form_errors == []


def test_without_a_language_given_the_request_s_language_is_used() -> None:
    english, vietnamese = ContactForm(), ContactForm()

    with Flask(__name__).test_request_context("/?lang=en"):
        show_refusal(english, refusal())
    with Flask(__name__).test_request_context("/?lang=vi"):
        show_refusal(vietnamese, refusal())

    assert english.email.errors == ["No active agent has extension 5001."]
    assert vietnamese.email.errors == ["Không có agent đang hoạt động với số máy lẻ 5001."]


def test_a_page_listing_every_message_gets_them_in_order() -> None:
    assert refusal_text(refusal(), language="en") == [
        "No active agent has extension 5001.",
        "Reserved numbers must be extensions, separated by commas."]
    assert refusal_text(Conflict(), language="vi") == [
        "Dữ liệu vừa thay đổi; hãy tải lại và thử lại."]
