"""Forms of the pages (Flask-WTF: CSRF token and validation on every one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask_babel import Domain
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from web.i18n import current_language
from web.messages import FIELD_NAMES, LANGUAGES, render
from workflow.domain import text
from workflow.domain.rules import AgentStatus
from workflow.tickets.kinds import KINDS, TicketKind
from workflow.tickets.kinds.kind import Kind

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
    """A Flask-WTF form whose library messages speak the page's language, and whose one-line
    fields (every text field but text areas and hidden fields) refuse line breaks."""

    class Meta(_FlaskForm.Meta):
        def get_translations(self, form: Any) -> _FormLibraryTranslations:
            return _FormLibraryTranslations()

    def validate(self, extra_validators: Any = None) -> bool:
        extra = {name: list(rules) for name, rules in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            multi_line = isinstance(field, TextAreaField | HiddenField)
            if isinstance(field, StringField) and not multi_line:
                extra.setdefault(name, []).append(_one_line)
        return bool(super().validate(extra))


def _one_line(form: Any, field: Any) -> None:
    """Refuse a line break or another unsafe character, by the domain's own rule and with
    its message (which sits next to the field)."""
    if isinstance(field.data, str) and (unsafe := text.unsafe_characters(field.data)):
        name = field.name if field.name in FIELD_NAMES else str(field.label.text).lower()
        raise ValidationError(render("text_unsafe", {"field": name, "characters": ", ".join(
            unsafe)}, current_language()))


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
    department_id = SelectField(_l("Phòng ban"), coerce=_optional_id, validators=[Optional()])
    status = SelectField(_l("Trạng thái"), validators=[Optional()], choices=[
        SelectChoice("", _l("Tất cả")),
        SelectChoice(AgentStatus.ACTIVE.value, _l("Đang hoạt động")),
        SelectChoice(AgentStatus.REVOKED.value, _l("Đã ngừng cấp")),
    ])
    routing_type = SelectField(_l("Định tuyến"), validators=[Optional()], choices=[
        SelectChoice("", _l("Tất cả")), SelectChoice("app_web", _l("App và Web")),
        SelectChoice("phone", _l("Số điện thoại")),
    ])
    device = SelectField(_l("Thiết bị"), validators=[Optional()], choices=[
        SelectChoice("", _l("Tất cả")), SelectChoice("none", _l("Chưa có thiết bị đăng ký")),
    ])
    sort = SelectField(_l("Sắp xếp"), validators=[Optional()], choices=[
        SelectChoice("updated", _l("Thay đổi gần nhất")), SelectChoice("name", _l("Tên")),
        SelectChoice("extension", _l("Số máy lẻ")),
    ])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)])


#: Ticket kinds as the pages name them (from the catalogs, in the page's language when shown),
#: in the order the form offers them.
KIND_LABELS = {code: _l(kind.label) for code, kind in KINDS.items()}


def _kind_choice(kind: Kind) -> SelectChoice:
    """A kind as the setup form offers it, marked with what the page's script shows for it."""
    return SelectChoice(kind.code, KIND_LABELS[kind.code], render_kw={
        "data-needs-agent": kind.needs_agent, "data-routes": kind.routes,
        "data-picks-extension": kind.picks_extension,
        "data-resets-password": kind.resets_password,
    })


class SetupAgentForm(FlaskForm):
    """The "Thiết lập agent" form: who, what kind of ticket, extension, routing, notices."""

    branch_id = SelectField(_l("Chi nhánh / Văn phòng / Cơ sở"), coerce=_optional_id,
                            validators=[DataRequired(_l("Vui lòng chọn chi nhánh."))])
    department_id = SelectField(_l("Phòng ban"), coerce=_optional_id,
                                validators=[DataRequired(_l("Vui lòng chọn phòng ban."))])
    employee_id = SelectField(_l("Nhân viên"), coerce=_optional_id,
                              validators=[DataRequired(_l("Vui lòng chọn nhân viên."))])
    kind = RadioField(_l("Loại phiếu"), default=TicketKind.NEW.value,
                      choices=[_kind_choice(kind) for kind in KINDS.values()])
    extension = StringField(_l("Số máy lẻ"), validators=[Optional(), Length(max=20)])
    routing_type = RadioField(_l("Định tuyến cuộc gọi"), default="app_web", choices=[
        SelectChoice("app_web", _l("Đổ chuông đồng thời trên App và Web (khuyến nghị)")),
        SelectChoice("phone", _l("Đổ chuông trên số điện thoại chỉ định")),
    ])
    priority_number = StringField(_l("Số ưu tiên"), validators=[Optional(), Length(max=30)])
    backup_number = StringField(_l("Số dự phòng"), validators=[Optional(), Length(max=30)])
    reset_password = BooleanField(_l("Cấp mật khẩu SIP mới"))
    details = TextAreaField(_l("Chi tiết Agent"), validators=[Optional(), Length(max=2000)])
    #: One checkbox a person (no Ctrl+click: a second click never drops the first person).
    notify_user_ids = SelectMultipleField(_l("Gửi thông báo đến"), coerce=int,
                                          validators=[Optional()],
                                          widget=ListWidget(prefix_label=False),
                                          option_widget=CheckboxInput())
    idempotency_key = HiddenField()
    submit_exit = SubmitField(_l("Hoàn thành và thoát"))
    submit_new = SubmitField(_l("Hoàn thành và điền mới"))


class CredentialLinkForm(FlaskForm):
    """The token of a one-time link, posted from the page (never in an address)."""

    token = StringField(_l("Mã trong liên kết"), validators=[
        DataRequired(), Length(max=100),
        Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Mã liên kết không hợp lệ."))])


class CommentForm(FlaskForm):
    """Approve, cancel or retry, with an optional comment."""

    comment = TextAreaField(_l("Ghi chú"), validators=[Optional(), Length(max=2000)])


class CancelForm(CommentForm):
    """Cancel, once the user has said yes to the question (in a dialog, or on the page)."""

    confirmed = BooleanField()


class RejectForm(FlaskForm):
    """Reject, with the reason the requester will read."""

    # The queue says the same (a required field's message) when its comment is missing.
    reason = TextAreaField(_l("Lý do từ chối"), validators=[DataRequired(), Length(max=2000)])


class BulkDecisionForm(FlaskForm):
    """Approve or reject the tickets ticked in the queue, with one comment."""

    ticket_ids = SelectMultipleField(_l("Phiếu"), coerce=int,
                                     validators=[DataRequired(_l("Vui lòng chọn phiếu."))])
    comment = TextAreaField(_l("Ghi chú (bắt buộc khi từ chối)"),
                            validators=[Optional(), Length(max=2000)])
    approve = SubmitField(_l("Duyệt các phiếu đã chọn"))
    reject = SubmitField(_l("Từ chối các phiếu đã chọn"))


class PolicyForm(FlaskForm):
    """The organisation's extension policy."""

    length = IntegerField(_l("Số chữ số"), validators=[DataRequired(), NumberRange(min=3, max=8)])
    prefix = StringField(_l("Đầu số bắt buộc"), validators=[Optional(), Length(max=7)])
    reserved = TextAreaField(_l("Số giữ lại (cách nhau bằng dấu phẩy)"),
                             validators=[Optional(), Length(max=5000)])


#: Roles as the pages name them.
ROLE_LABELS = {
    "requester": _l("Người yêu cầu"),
    "approver": _l("Người duyệt"),
    "admin": _l("Quản trị viên"),
}


class AccessForm(FlaskForm):
    """A user's role, approver branches and whether they may sign in."""

    role = SelectField(_l("Vai trò"), choices=[
        SelectChoice(code, label) for code, label in ROLE_LABELS.items()
    ])
    branch_ids = SelectMultipleField(_l("Chi nhánh phụ trách (để trống: tất cả)"), coerce=int,
                                     validators=[Optional()])
    active = BooleanField(_l("Được đăng nhập"))


class ImportForm(FlaskForm):
    """An employee spreadsheet: previewed first, then imported as previewed."""

    file = FileField(_l("Tệp CSV"),
                     validators=[FileAllowed(["csv", "txt"], _l("Chỉ nhận tệp .csv"))])
    content = HiddenField()
    preview = SubmitField(_l("Xem trước"))
    apply = SubmitField(_l("Nhập các dòng này"))


class BranchForm(FlaskForm):
    """A branch, office or facility."""

    name = StringField(_l("Tên"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Loại"), choices=[
        SelectChoice("branch", _l("Chi nhánh")), SelectChoice("office", _l("Văn phòng")),
        SelectChoice("facility", _l("Cơ sở")),
    ])
    active = BooleanField(_l("Đang hoạt động"), default=True)


class DepartmentForm(FlaskForm):
    """A department of a branch."""

    branch_id = SelectField(_l("Chi nhánh"), coerce=_optional_id,
                            validators=[DataRequired(_l("Vui lòng chọn chi nhánh."))])
    name = StringField(_l("Tên"), validators=[DataRequired(), Length(max=200)])
    active = BooleanField(_l("Đang hoạt động"), default=True)


class EmployeeForm(FlaskForm):
    """An employee of a department."""

    department_id = SelectField(_l("Phòng ban"), coerce=_optional_id,
                                validators=[DataRequired(_l("Vui lòng chọn phòng ban."))])
    full_name = StringField(_l("Họ tên"), validators=[DataRequired(), Length(max=200)])
    employee_code = StringField(_l("Mã nhân viên"), validators=[Optional(), Length(max=40)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    active = BooleanField(_l("Đang làm việc"), default=True)


class NewUserForm(AccessForm):
    """A new user: who they are, their first password, and their access."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    full_name = StringField(_l("Họ tên"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Mật khẩu ban đầu"),
                             validators=[DataRequired(), Length(min=8, max=200)])
    active = None  # a new user may sign in
