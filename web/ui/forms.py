"""Forms of the pages (Flask-WTF: CSRF token and validation on every one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask_babel import Domain
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from web.messages import LANGUAGES

#: How each language names itself in the switch.
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


#: WTForms' own messages ("This field is required."…) from our catalogs: it ships no Vietnamese.
_FORM_LIBRARY = Domain(
    translation_directories=str(Path(__file__).resolve().parent.parent / "translations"),
    domain="wtforms",
)


class _FormLibraryTranslations:
    """What WTForms asks of a translations object, in the page's language."""

    # The raw catalog: WTForms fills in the %(…)s placeholders itself afterwards.
    def gettext(self, string: str) -> str:
        return str(_FORM_LIBRARY.get_translations().gettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(_FORM_LIBRARY.get_translations().ngettext(singular, plural, n))


class FlaskForm(_FlaskForm):
    """A Flask-WTF form whose library messages speak the page's language."""

    class Meta(_FlaskForm.Meta):
        def get_translations(self, form: Any) -> _FormLibraryTranslations:
            return _FormLibraryTranslations()


def _optional_id(value: object) -> int | None:
    """A select's id, or None for "all"."""
    if value in (None, "", "None"):
        return None
    return int(str(value))


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()
    submit = SubmitField(_l("Đăng nhập"))


class LanguageForm(FlaskForm):
    """The language switch in the navigation bar."""

    language = SelectField(
        _l("Ngôn ngữ"), choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]
    )
    next = HiddenField()


class AgentFilterForm(FlaskForm):
    """Search and filters of the agent list (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    q = StringField(_l("Tìm theo tên hoặc số máy lẻ"), validators=[Optional(), Length(max=100)])
    branch_id = SelectField(_l("Chi nhánh"), coerce=_optional_id, validators=[Optional()])
    status = SelectField(_l("Trạng thái"), validators=[Optional()], choices=[
        SelectChoice("", _l("Tất cả")), SelectChoice("active", _l("Đang hoạt động")),
        SelectChoice("revoked", _l("Đã ngừng cấp")),
    ])
    routing_type = SelectField(_l("Định tuyến"), validators=[Optional()], choices=[
        SelectChoice("", _l("Tất cả")), SelectChoice("app_web", _l("App và Web")),
        SelectChoice("phone", _l("Số điện thoại")),
    ])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)])
