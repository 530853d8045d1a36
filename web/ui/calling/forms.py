"""Forms of the calling-function pages (profiles, hotlines, trunks, assignments, working time,
check)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from web.ui.forms import EmployeeForm, FlaskForm
from web.ui.labels import CLASS_NAMES
from workflow.domain.numbers import CHOOSABLE

#: Periods a weekday may have on the working-week form.
PERIODS_PER_DAY = 2
#: Times as typed: "08:00" (24-hour, as Vietnamese write them), or with seconds.
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
#: A plain text box for times: browsers' time pickers may show 12-hour clocks.
TIME_INPUT = {"placeholder": "hh:mm", "inputmode": "numeric", "maxlength": "8",
              "autocomplete": "off"}
#: Dates as Vietnamese write them (the pages show them so too), or ISO.
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]


def optional_id(value: object) -> int | None:
    """A select's id, or None for the empty choice."""
    if value in (None, "", "None"):
        return None
    return int(str(value))


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as one checkbox per option."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProfileForm(FlaskForm):
    """Every setting of a calling profile, and the version it was read at."""

    name = StringField(_l("Tên hồ sơ"), validators=[DataRequired(), Length(max=100)])
    outgoing = BooleanField(_l("Cho gọi ra ngoài"))
    classes = CheckboxesField(_l("Loại số được gọi"), validators=[Optional()], choices=[
        SelectChoice(each.value, CLASS_NAMES[each.value]) for each in CHOOSABLE])
    hotline_ids = CheckboxesField(_l("Hotline được hiển thị khi gọi ra"), coerce=int,
                                  validators=[Optional()])
    default_hotline_id = SelectField(_l("Hotline mặc định"), coerce=optional_id,
                                     validators=[Optional()])
    max_internal_seconds = IntegerField(_l("Thời lượng tối đa cuộc gọi nội bộ (giây)"),
                                        validators=[Optional()])
    max_outgoing_seconds = IntegerField(_l("Thời lượng tối đa cuộc gọi ra ngoài (giây)"),
                                        validators=[Optional()])
    after_hours = BooleanField(_l("Cho gọi ra ngoài ngoài giờ làm việc"))
    external_forwarding = BooleanField(_l("Cho chuyển cuộc gọi ra số ngoài (định tuyến về số "
                                          "điện thoại)"))
    version = HiddenField()


class HotlineForm(FlaskForm):
    """A company number to add or change, and the extension a call to it rings."""

    number = StringField(_l("Số hotline"), validators=[DataRequired(), Length(max=30)])
    label = StringField(_l("Tên gọi"), validators=[Optional(), Length(max=100)])
    extension = StringField(_l("Cuộc gọi đến đổ về số máy lẻ (không bắt buộc)"),
                            validators=[Optional(), Length(max=20)])


class TrunkForm(FlaskForm):
    """A carrier trunk; the password field is never filled back (empty keeps it)."""

    name = StringField(_l("Tên trunk"), validators=[DataRequired(), Length(max=100)])
    address = StringField(_l("Địa chỉ IP của nhà mạng"), validators=[DataRequired(),
                                                                    Length(max=100)])
    port = IntegerField(_l("Cổng"), default=5060, validators=[Optional()])
    transport = SelectField(_l("Giao thức"), choices=[
        SelectChoice("udp", "UDP"), SelectChoice("tcp", "TCP"), SelectChoice("tls", "TLS")])
    number_format = SelectField(_l("Định dạng số gửi nhà mạng"), choices=[
        SelectChoice("e164", _l("E.164 (+84912345678)")),
        SelectChoice("national", _l("Quốc gia (0912345678)"))])
    number = StringField(_l("Số chính của trunk"), validators=[DataRequired(), Length(max=30)])
    position = IntegerField(_l("Thứ tự thử (1 trước tiên; để trống: cuối cùng)"),
                            validators=[Optional()])
    auth_username = StringField(_l("Tên đăng nhập với nhà mạng (không bắt buộc)"),
                                validators=[Optional(), Length(max=64)])
    auth_password = PasswordField(_l("Mật khẩu (để trống: giữ mật khẩu đã lưu)"),
                                  validators=[Optional(), Length(max=128)])
    auth_realm = StringField(_l("Realm (không bắt buộc)"), validators=[Optional(),
                                                                       Length(max=100)])
    enabled = BooleanField(_l("Đang dùng"), default=True)


class JobRoleForm(FlaskForm):
    """A job role's name (new, or renamed)."""

    name = StringField(_l("Tên chức danh"), validators=[DataRequired(), Length(max=100)])


class AssignmentForm(FlaskForm):
    """Assign a profile at one level, or remove what is assigned there (unused fields deleted)."""

    target_id = SelectField(_l("Áp dụng cho"), coerce=optional_id, validators=[DataRequired()])
    extension = StringField(_l("Số máy lẻ của agent"), validators=[DataRequired(),
                                                                  Length(max=20)])
    profile_id = SelectField(_l("Hồ sơ gọi"), coerce=optional_id, validators=[Optional()])
    assign = SubmitField(_l("Gán"))
    remove = SubmitField(_l("Bỏ gán"))


class RemoveAssignmentForm(FlaskForm):
    """Remove one listed assignment."""

    level = HiddenField()
    target_id = HiddenField()


class WorkingWeekForm(FlaskForm):
    """Up to two periods (start, end) for each day of the week; fields added below."""

    @staticmethod
    def field_name(day: int, period: int, end: str) -> str:
        """The name of one time field: d0_1_starts is Monday's first start."""
        return f"d{day}_{period}_{end}"


def _add_week_fields(form: type[WorkingWeekForm]) -> None:
    """Give the working-week form its time fields, day by day."""
    for day in range(7):
        for period in range(1, PERIODS_PER_DAY + 1):
            for end, label in (("starts", _l("Bắt đầu")), ("ends", _l("Kết thúc"))):
                setattr(form, form.field_name(day, period, end), TimeField(
                    label, format=TIME_FORMATS, validators=[Optional()], widget=TextInput(),
                    render_kw=TIME_INPUT))


_add_week_fields(WorkingWeekForm)


class HolidayForm(FlaskForm):
    """A public holiday to add."""

    day = DateField(_l("Ngày (ngày/tháng/năm)"), format=DATE_FORMATS, validators=[InputRequired()],
                    widget=TextInput(), render_kw={"placeholder": "dd/mm/yyyy",
                                                   "autocomplete": "off"})
    name = StringField(_l("Tên ngày nghỉ"), validators=[DataRequired(), Length(max=100)])


class CallCheckForm(FlaskForm):
    """"May this extension call this number now?" (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    extension = StringField(_l("Số máy lẻ"), validators=[DataRequired(), Length(max=20)])
    number = StringField(_l("Số cần gọi"), validators=[DataRequired(), Length(max=40)])
    caller_id = StringField(_l("Số hiển thị (không bắt buộc)"),
                            validators=[Optional(), Length(max=30)])


class EmployeeRoleForm(EmployeeForm):
    """An employee, with their job role (which may decide their calling profile)."""

    job_role_id = SelectField(_l("Chức danh"), coerce=optional_id, validators=[Optional()])
