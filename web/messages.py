"""User-facing messages for domain problems and errors, in Vietnamese (the source texts).

Other languages come from the translation catalogs in `web/translations`, where each message
is found by its Vietnamese text and its code as the context (two codes may share a text).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

#: Languages the interface speaks, the default (the language of the source texts) first.
LANGUAGES = ("vi", "en")
#: The catalogs every text of agentdesk is translated by.
CATALOGS = Path(__file__).resolve().parent / "translations"


def NC_(context: str, text: str) -> tuple[str, str]:
    """Mark `text` for the catalogs under `context` (a code, a word or a field name)."""
    return context, text


#: The message of each error code, by its code.
MESSAGES: dict[str, str] = dict((
    NC_("employee_unknown", "Không tìm thấy nhân viên đang làm việc này."),
    NC_("employee_has_open_ticket", "Nhân viên này đang có phiếu #{ticket_id} chưa xử lý xong."),
    NC_("employee_has_agent", "Nhân viên này đã có số máy lẻ {extension}."),
    NC_("employee_has_no_agent", "Nhân viên này chưa có tài khoản agent đang hoạt động."),
    NC_("webphone_no_agent",
        "Bạn chưa có tài khoản agent đang hoạt động nên chưa dùng được điện thoại web."),
    NC_("webphone_not_configured", "Điện thoại web chưa được cấu hình trên hệ thống này."),
    NC_("credential", "Liên kết mật khẩu SIP không tồn tại."),
    NC_("credential_gone", "Mật khẩu SIP này đã được xem hoặc đã hết hạn."),
    NC_("credential_unreadable",
        "Không đọc được mật khẩu SIP đã lưu: hãy nhờ người quản lý cấp mật khẩu mới."),
    NC_("device_link", "Liên kết cài đặt không tồn tại."),
    NC_("device_link_gone", "Liên kết cài đặt đã được dùng hoặc đã hết hạn."),
    NC_("details_too_long", "Chi tiết tối đa {max} ký tự."),
    NC_("comment_too_long", "Ghi chú tối đa {max} ký tự."),
    NC_("extension_digits", "Số máy lẻ chỉ gồm chữ số."),
    NC_("extension_zero", "Số máy lẻ không được là 0."),
    NC_("extension_leading_zero", "Số máy lẻ không được bắt đầu bằng 0."),
    NC_("extension_length", "Số máy lẻ phải có đúng {length} chữ số."),
    NC_("extension_prefix", "Số máy lẻ phải bắt đầu bằng {prefix}."),
    NC_("extension_reserved", "Số máy lẻ này được giữ lại, không cấp được."),
    NC_("extension_taken", "Số máy lẻ {extension} đang được {holder} sử dụng."),
    NC_("extension_pending", "Số máy lẻ {extension} đang được yêu cầu trong phiếu #{ticket_id}."),
    NC_("extension_none_free", "Không còn số máy lẻ trống theo quy tắc hiện tại."),
    NC_("nothing_to_change",
        "Phiếu đổi tài khoản phải thay đổi số máy lẻ, định tuyến hoặc mật khẩu SIP."),
    NC_("routing_type_unknown", "Loại định tuyến không hợp lệ."),
    NC_("phone_required", "Vui lòng nhập số điện thoại."),
    NC_("phone_invalid", "{number} không phải là số điện thoại hợp lệ."),
    NC_("backup_same_as_priority", "Số dự phòng phải khác số ưu tiên."),
    NC_("reason_required", "Vui lòng nhập lý do từ chối."),
    NC_("email_invalid", "Địa chỉ email không hợp lệ."),
    NC_("text_unsafe",
        "{field} không được chứa ký tự điều khiển hay ký tự xuống dòng ({characters})."),
    NC_("text_required", "Thiếu {field} (tối đa {max} ký tự)."),
    NC_("text_too_long", "{field} tối đa {max} ký tự."),
    NC_("branch_unknown", "Có chi nhánh không tồn tại."),
    NC_("policy_length_range", "Độ dài số máy lẻ phải từ {min} đến {max} chữ số."),
    NC_("policy_prefix_digits", "Đầu số chỉ gồm chữ số."),
    NC_("policy_prefix_zero", "Đầu số không được bắt đầu bằng 0."),
    NC_("policy_prefix_too_long", "Đầu số phải ngắn hơn {length} chữ số."),
    NC_("policy_breaks_extensions", "Quy tắc mới làm các số đang dùng không hợp lệ: {extensions}."),
    NC_("unknown_user", "Có người nhận thông báo không tồn tại."),
    NC_("error", "Không thực hiện được yêu cầu."),
    NC_("not_found", "Không tìm thấy."),
    NC_("ticket_not_found", "Không tìm thấy phiếu #{ticket_id}."),
    NC_("agent_not_found", "Không tìm thấy agent #{agent_id}."),
    NC_("branch_not_found", "Không tìm thấy chi nhánh #{branch_id}."),
    NC_("department_not_found", "Không tìm thấy phòng ban #{department_id}."),
    NC_("notification_not_found", "Không tìm thấy thông báo #{notification_id}."),
    NC_("organisation_missing", "Chưa thiết lập tổ chức."),
    NC_("forbidden", "Bạn không có quyền thực hiện thao tác này."),
    NC_("not_an_approver", "Chỉ người duyệt hoặc quản trị viên mới được làm việc này."),
    NC_("own_ticket", "Bạn không thể tự duyệt phiếu của chính mình."),
    NC_("out_of_scope", "Phiếu này không thuộc chi nhánh bạn phụ trách."),
    NC_("not_requester", "Chỉ người tạo phiếu hoặc quản trị viên mới được huỷ phiếu."),
    NC_("transition_not_allowed", "Không thể {action} khi phiếu đang ở trạng thái {state}."),
    NC_("ticket_changed", "Phiếu #{ticket_id} vừa được người khác xử lý; hãy tải lại."),
    NC_("extension_race", "Số máy lẻ vừa được phiếu khác giữ trước; hãy chọn số khác."),
    NC_("employee_race", "Nhân viên này vừa có phiếu khác được tạo; hãy tải lại."),
    NC_("conflict", "Dữ liệu vừa thay đổi; hãy tải lại và thử lại."),
    NC_("unauthorized", "Vui lòng đăng nhập."),
    NC_("login_failed", "Email hoặc mật khẩu không đúng."),
    NC_("invalid", "Dữ liệu không hợp lệ."),
    NC_("file_too_large", "Tệp quá lớn (tối đa 5 MB)."),
    NC_("branch_kind_unknown", "Loại đơn vị không hợp lệ."),
    NC_("structure_has_agents",
        "Còn {count} nhân viên có tài khoản agent đang hoạt động; hãy ngừng cấp trước."),
    NC_("import_branch_unknown", "Không có chi nhánh «{branch}»."),
    NC_("import_department_required", "Thiếu phòng ban."),
    NC_("import_name_required", "Thiếu họ tên (tối đa {max} ký tự)."),
    NC_("import_code_too_long", "Mã nhân viên tối đa {max} ký tự."),
    NC_("import_code_repeated", "Mã nhân viên {code} lặp lại trong tệp."),
    NC_("import_has_errors", "Tệp có {count} dòng lỗi; chưa ghi gì cả."),
    NC_("import_file_unreadable", "Không đọc được tệp CSV (cần các cột: {columns})."),
    NC_("user_not_found", "Không tìm thấy người dùng."),
    NC_("email_taken", "Email này đã có người dùng."),
    NC_("last_admin",
        "Đây là quản trị viên cuối cùng còn hoạt động; hãy chỉ định người khác trước."),
    NC_("reserved_digits", "Số giữ lại phải là các số máy lẻ hợp lệ, cách nhau bằng dấu phẩy."),
    NC_("csrf_failed", "Biểu mẫu đã hết hạn hoặc không hợp lệ; hãy tải lại trang và thử lại."),
    NC_("too_many_requests", "Bạn thao tác quá nhanh; hãy đợi một chút rồi thử lại."),
    NC_("too_many_sign_ins", "Đăng nhập sai quá nhiều lần; hãy thử lại sau {minutes} phút."),
    NC_("json_required",
        "Yêu cầu thay đổi dữ liệu phải gửi dạng JSON (Content-Type: application/json) hoặc kèm "
        "mã X-CSRFToken."),
    NC_("server_error", "Đã có lỗi hệ thống; dữ liệu của bạn không bị mất, hãy thử lại."),
    NC_("registrations_unreadable",
        "Không đọc được thiết bị đang đăng ký trên tổng đài lúc này; hãy thử lại sau."),
    NC_("forwarding_not_allowed",
        "Hồ sơ gọi của nhân viên này không cho chuyển cuộc gọi ra số ngoài."),
    NC_("forward_class_not_allowed",
        "Hồ sơ gọi của nhân viên này không cho gọi loại số: {classes}."),
    NC_("forwards_would_break",
        "Thay đổi này làm {count} agent đang chuyển cuộc gọi vi phạm hồ sơ gọi: {extensions}. "
        "Hãy đổi định tuyến của họ trước."),
    NC_("number_invalid", "{number} không phải là số gọi được."),
    NC_("class_unknown", "Loại số không hợp lệ: {classes}."),
    NC_("seconds_range", "Thời lượng phải từ 1 đến {max} giây."),
    NC_("hotline_not_found", "Có số hotline không tồn tại."),
    NC_("hotline_taken", "Số hotline này đã có."),
    NC_("trunk_not_found", "Không tìm thấy trunk này."),
    NC_("trunk_name_taken", "Đã có trunk tên này."),
    NC_("trunk_address_invalid", "Địa chỉ phải là một địa chỉ IP (IPv4 hoặc IPv6) của nhà mạng."),
    NC_("trunk_port_range", "Cổng phải từ 1 đến 65535."),
    NC_("trunk_transport_unknown", "Giao thức phải là UDP, TCP hoặc TLS."),
    NC_("trunk_format_unknown", "Định dạng số phải là E.164 hoặc quốc gia."),
    NC_("trunk_position_range", "Thứ tự phải từ 1 đến {max}."),
    NC_("trunk_password_unsafe", "Mật khẩu không được chứa ký tự điều khiển ({characters})."),
    NC_("trunk_password_length", "Mật khẩu tối đa {max} ký tự."),
    NC_("trunk_credential_ascii",
        "Chỉ dùng chữ không dấu, chữ số và ký hiệu ASCII (nhà mạng không nhận ký tự khác)."),
    NC_("trunk_username_required", "Có mật khẩu thì phải có tên đăng nhập."),
    NC_("trunk_password_required", "Vui lòng nhập mật khẩu cho tên đăng nhập này."),
    NC_("default_hotline_not_listed", "Hotline mặc định phải nằm trong các hotline được dùng."),
    NC_("profile_name_taken", "Đã có hồ sơ gọi tên này."),
    NC_("profile_not_found", "Không tìm thấy hồ sơ gọi này."),
    NC_("profile_changed", "Hồ sơ gọi vừa được người khác sửa; hãy tải lại trang."),
    NC_("assignment_target_not_found", "Không tìm thấy đối tượng được gán hồ sơ gọi."),
    NC_("nothing_assigned", "Chưa gán hồ sơ gọi nào ở đây."),
    NC_("name_required", "Vui lòng nhập tên (tối đa 100 ký tự)."),
    NC_("call_allowed", "Được gọi."),
    NC_("call_emergency", "Số khẩn cấp: luôn được gọi."),
    NC_("call_class_not_allowed", "Hồ sơ gọi không cho gọi loại số này."),
    NC_("call_outgoing_off", "Hồ sơ gọi không cho gọi ra ngoài."),
    NC_("call_outside_working_hours", "Ngoài giờ làm việc: hồ sơ gọi không cho gọi ra ngoài."),
    NC_("call_no_caller_id", "Chưa có hotline nào để hiển thị khi gọi ra."),
    NC_("call_caller_id_not_allowed", "Hồ sơ gọi không cho dùng số hiển thị này."),
    NC_("admin_only", "Chỉ quản trị viên được làm việc này."),
    NC_("period_invalid",
        "Khoảng giờ làm việc không hợp lệ (giờ bắt đầu phải trước giờ kết thúc)."),
    NC_("periods_overlap", "Các khoảng giờ làm việc trong cùng một ngày bị chồng lên nhau."),
    NC_("holiday_taken", "Ngày {day} đã là ngày nghỉ lễ."),
    NC_("holiday_not_found", "Không tìm thấy ngày nghỉ lễ này."),
    NC_("job_role_taken", "Đã có chức danh tên này."),
    NC_("job_role_not_found", "Không tìm thấy chức danh này."),
    NC_("extension_not_found", "Không có agent đang hoạt động với số máy lẻ {extension}."),
    NC_("phone_has_extension", "{number} có kèm số nhánh (ext, x, ;ext=); chỉ nhập số điện thoại."),
    NC_("text_refused", "Có ký tự không được phép (ký tự điều khiển hoặc mã Unicode lỗi)."),
    NC_("single_line", "Chỉ được nhập trên một dòng."),
    NC_("number_too_long", "Số quá dài (tối đa {max} chữ số)."),
    NC_("malformed_json", "Nội dung gửi lên không phải JSON hợp lệ."),
    NC_("json_too_deep", "JSON lồng nhau quá sâu (tối đa {max} cấp)."),
    NC_("body_too_large", "Dữ liệu gửi lên quá lớn (tối đa {max})."),
    NC_("method_not_allowed", "Địa chỉ này không nhận phương thức này."),
    NC_("value_refused_by_database", "Có giá trị vượt quá giới hạn lưu trữ."),
))

#: marshmallow's and webargs' own messages, in Vietnamese.
LIBRARY_MESSAGES_VI = {
    "Missing data for required field.": "Trường này là bắt buộc.",
    "Field may not be null.": "Trường này không được để trống.",
    "Not a valid integer.": "Phải là một số nguyên.",
    "Not a valid string.": "Phải là chuỗi ký tự.",
    "Not a valid boolean.": "Phải là đúng/sai.",
    "Not a valid list.": "Phải là một danh sách.",
    "Unknown field.": "Trường không được hỗ trợ.",
    "Invalid input type.": "Kiểu dữ liệu không hợp lệ.",
    "Invalid value.": "Giá trị không hợp lệ.",
}

#: Names of states, actions and number classes, for messages such as "Can't approve when in
#: rejected."
WORDS: dict[str, str] = dict((
    NC_("approve", "duyệt"),
    NC_("reject", "từ chối"),
    NC_("cancel", "huỷ"),
    NC_("retry", "thử lại"),
    NC_("start", "bắt đầu"),
    NC_("complete", "hoàn tất"),
    NC_("fail", "đánh dấu lỗi"),
    NC_("submitted", "chờ duyệt"),
    NC_("approved", "đã duyệt"),
    NC_("provisioning", "đang cấu hình"),
    NC_("provisioned", "hoàn tất"),
    NC_("rejected", "bị từ chối"),
    NC_("cancelled", "đã huỷ"),
    NC_("failed", "thất bại"),
    NC_("internal", "nội bộ"),
    NC_("landline", "cố định trong nước"),
    NC_("mobile", "di động trong nước"),
    NC_("international", "quốc tế"),
    NC_("special", "dịch vụ đặc biệt (1900, 1800, số ngắn)"),
))

#: The fields a message may name (the `field` parameter of text problems).
FIELD_NAMES: dict[str, str] = dict((
    NC_("full_name", "họ tên"),
    NC_("name", "tên"),
    NC_("employee_code", "mã nhân viên"),
    NC_("email", "email"),
    NC_("department", "phòng ban"),
    NC_("branch", "chi nhánh"),
    NC_("auth_username", "tên đăng nhập"),
    NC_("auth_realm", "realm"),
))


@cache
def catalog(language: str) -> NullTranslations:
    """The translations into `language`; the source texts for any other language."""
    if language not in LANGUAGES[1:]:
        return NullTranslations()
    return Translations.load(str(CATALOGS), [language], domain="messages")


def in_language(context: str, text: str, language: str) -> str:
    """The source `text` marked under `context`, in `language`."""
    return str(catalog(language).pgettext(context, text))  # typed loosely by babel


def _word(value: Any, language: str) -> Any:
    """A state, action or number class named in `language`; any other value as it is."""
    word = str(value)
    return in_language(word, WORDS[word], language) if word in WORDS else value


def render(code: str, params: Mapping[str, Any], language: str) -> str:
    """The message for `code` in `language`, with its parameters filled in."""
    values = {
        key: ", ".join(str(_word(each, language)) for each in value)
        if isinstance(value, list | tuple)
        else _word(value, language)
        for key, value in params.items()
    }
    if "field" in params:
        field = str(params["field"])
        values["field"] = (in_language(field, FIELD_NAMES[field], language)
                           if field in FIELD_NAMES else field)
    template = in_language(code, MESSAGES[code], language) if code in MESSAGES else code
    try:
        message = template.format(**values)
    except (KeyError, IndexError):
        return template
    # Field names are lower case, for the middle of a sentence; a message may start with one.
    return message[:1].upper() + message[1:] if template.startswith("{field}") else message


def translate_library_message(message: str, language: str) -> str:
    """A marshmallow/webargs message in `language` (they only ship English)."""
    if language != "vi":
        return message
    if message in _OUR_ENGLISH:  # raised by our own validators, in English like the library's
        return render(_OUR_ENGLISH[message], {}, language)
    if message in LIBRARY_MESSAGES_VI:
        return LIBRARY_MESSAGES_VI[message]
    for english, vietnamese in _LIBRARY_PATTERNS_VI:
        if found := english.fullmatch(message):
            return vietnamese.format(*found.groups())
    return message


#: marshmallow's messages that carry values, in Vietnamese.
_LIBRARY_PATTERNS_VI = [(re.compile(english), vietnamese) for english, vietnamese in (
    (r"Must be one of: (.*)", "Phải là một trong: {}"),
    (r"Longer than maximum length (.*)", "Dài hơn tối đa {}"),
    (r"Length must be between (\S+) and (\S+)\.", "Độ dài phải từ {} đến {}."),
    (r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.",
     "Phải từ {} đến {}."),
    (r"Must be greater than or equal to (\S+)\.", "Phải lớn hơn hoặc bằng {}."),
)]


#: Our messages without parameters by their English text, for validators that raise them.
_OUR_ENGLISH = {in_language(code, text, "en"): code
                for code, text in MESSAGES.items() if "{" not in text}
