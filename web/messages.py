"""User-facing messages for domain problems and errors, Vietnamese first, English too."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: Languages the interface speaks, the default first.
LANGUAGES = ("vi", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "vi": {
        "employee_unknown": "Không tìm thấy nhân viên đang làm việc này.",
        "employee_has_open_ticket": "Nhân viên này đang có phiếu #{ticket_id} chưa xử lý xong.",
        "employee_has_agent": "Nhân viên này đã có số máy lẻ {extension}.",
        "employee_has_no_agent": "Nhân viên này chưa có tài khoản agent đang hoạt động.",
        "webphone_no_agent":
            "Bạn chưa có tài khoản agent đang hoạt động nên chưa dùng được điện thoại web.",
        "webphone_not_configured": "Điện thoại web chưa được cấu hình trên hệ thống này.",
        "credential": "Liên kết mật khẩu SIP không tồn tại.",
        "credential_gone": "Mật khẩu SIP này đã được xem hoặc đã hết hạn.",
        "credential_unreadable":
            "Không đọc được mật khẩu SIP đã lưu: hãy nhờ người quản lý cấp mật khẩu mới.",
        "device_link": "Liên kết cài đặt không tồn tại.",
        "device_link_gone": "Liên kết cài đặt đã được dùng hoặc đã hết hạn.",
        "details_too_long": "Chi tiết tối đa {max} ký tự.",
        "comment_too_long": "Ghi chú tối đa {max} ký tự.",
        "extension_digits": "Số máy lẻ chỉ gồm chữ số.",
        "extension_zero": "Số máy lẻ không được là 0.",
        "extension_leading_zero": "Số máy lẻ không được bắt đầu bằng 0.",
        "extension_length": "Số máy lẻ phải có đúng {length} chữ số.",
        "extension_prefix": "Số máy lẻ phải bắt đầu bằng {prefix}.",
        "extension_reserved": "Số máy lẻ này được giữ lại, không cấp được.",
        "extension_taken": "Số máy lẻ {extension} đang được {holder} sử dụng.",
        "extension_pending": "Số máy lẻ {extension} đang được yêu cầu trong phiếu #{ticket_id}.",
        "extension_none_free": "Không còn số máy lẻ trống theo quy tắc hiện tại.",
        "nothing_to_change":
            "Phiếu đổi tài khoản phải thay đổi số máy lẻ, định tuyến hoặc mật khẩu SIP.",
        "routing_type_unknown": "Loại định tuyến không hợp lệ.",
        "phone_required": "Vui lòng nhập số điện thoại.",
        "phone_invalid": "{number} không phải là số điện thoại hợp lệ.",
        "backup_same_as_priority": "Số dự phòng phải khác số ưu tiên.",
        "reason_required": "Vui lòng nhập lý do từ chối.",
        "email_invalid": "Địa chỉ email không hợp lệ.",
        "text_unsafe": "{field} không được chứa ký tự điều khiển hay ký tự xuống dòng "
                       "({characters}).",
        "text_required": "Thiếu {field} (tối đa {max} ký tự).",
        "text_too_long": "{field} tối đa {max} ký tự.",
        "branch_unknown": "Có chi nhánh không tồn tại.",
        "policy_length_range": "Độ dài số máy lẻ phải từ {min} đến {max} chữ số.",
        "policy_prefix_digits": "Đầu số chỉ gồm chữ số.",
        "policy_prefix_zero": "Đầu số không được bắt đầu bằng 0.",
        "policy_prefix_too_long": "Đầu số phải ngắn hơn {length} chữ số.",
        "policy_breaks_extensions": "Quy tắc mới làm các số đang dùng không hợp lệ: {extensions}.",
        "unknown_user": "Có người nhận thông báo không tồn tại.",
        "error": "Không thực hiện được yêu cầu.",
        "not_found": "Không tìm thấy.",
        "ticket_not_found": "Không tìm thấy phiếu #{ticket_id}.",
        "agent_not_found": "Không tìm thấy agent #{agent_id}.",
        "branch_not_found": "Không tìm thấy chi nhánh #{branch_id}.",
        "department_not_found": "Không tìm thấy phòng ban #{department_id}.",
        "notification_not_found": "Không tìm thấy thông báo #{notification_id}.",
        "organisation_missing": "Chưa thiết lập tổ chức.",
        "forbidden": "Bạn không có quyền thực hiện thao tác này.",
        "not_an_approver": "Chỉ người duyệt hoặc quản trị viên mới được làm việc này.",
        "own_ticket": "Bạn không thể tự duyệt phiếu của chính mình.",
        "out_of_scope": "Phiếu này không thuộc chi nhánh bạn phụ trách.",
        "not_requester": "Chỉ người tạo phiếu hoặc quản trị viên mới được huỷ phiếu.",
        "transition_not_allowed": "Không thể {action} khi phiếu đang ở trạng thái {state}.",
        "ticket_changed": "Phiếu #{ticket_id} vừa được người khác xử lý; hãy tải lại.",
        "extension_race": "Số máy lẻ vừa được phiếu khác giữ trước; hãy chọn số khác.",
        "employee_race": "Nhân viên này vừa có phiếu khác được tạo; hãy tải lại.",
        "conflict": "Dữ liệu vừa thay đổi; hãy tải lại và thử lại.",
        "unauthorized": "Vui lòng đăng nhập.",
        "login_failed": "Email hoặc mật khẩu không đúng.",
        "invalid": "Dữ liệu không hợp lệ.",
        "file_too_large": "Tệp quá lớn (tối đa 5 MB).",
        "branch_kind_unknown": "Loại đơn vị không hợp lệ.",
        "structure_has_agents": (
            "Còn {count} nhân viên có tài khoản agent đang hoạt động; hãy ngừng cấp trước."
        ),
        "import_branch_unknown": "Không có chi nhánh «{branch}».",
        "import_department_required": "Thiếu phòng ban.",
        "import_name_required": "Thiếu họ tên (tối đa {max} ký tự).",
        "import_code_too_long": "Mã nhân viên tối đa {max} ký tự.",
        "import_code_repeated": "Mã nhân viên {code} lặp lại trong tệp.",
        "import_has_errors": "Tệp có {count} dòng lỗi; chưa ghi gì cả.",
        "import_file_unreadable": "Không đọc được tệp CSV (cần các cột: {columns}).",
        "user_not_found": "Không tìm thấy người dùng.",
        "email_taken": "Email này đã có người dùng.",
        "last_admin": (
            "Đây là quản trị viên cuối cùng còn hoạt động; hãy chỉ định người khác trước."
        ),
        "reserved_digits": "Số giữ lại phải là các số máy lẻ hợp lệ, cách nhau bằng dấu phẩy.",
        "csrf_failed": "Biểu mẫu đã hết hạn hoặc không hợp lệ; hãy tải lại trang và thử lại.",
        "too_many_requests": "Bạn thao tác quá nhanh; hãy đợi một chút rồi thử lại.",
        "too_many_sign_ins": "Đăng nhập sai quá nhiều lần; hãy thử lại sau {minutes} phút.",
        "json_required": "Yêu cầu thay đổi dữ liệu phải gửi dạng JSON "
                         "(Content-Type: application/json) hoặc kèm mã X-CSRFToken.",
        "server_error": "Đã có lỗi hệ thống; dữ liệu của bạn không bị mất, hãy thử lại.",
        "registrations_unreadable": "Không đọc được thiết bị đang đăng ký trên tổng đài lúc "
                                    "này; hãy thử lại sau.",
        "forwarding_not_allowed":
            "Hồ sơ gọi của nhân viên này không cho chuyển cuộc gọi ra số ngoài.",
        "forward_class_not_allowed":
            "Hồ sơ gọi của nhân viên này không cho gọi loại số: {classes}.",
        "forwards_would_break": "Thay đổi này làm {count} agent đang chuyển cuộc gọi vi phạm "
                                "hồ sơ gọi: {extensions}. Hãy đổi định tuyến của họ trước.",
        "number_invalid": "{number} không phải là số gọi được.",
        "class_unknown": "Loại số không hợp lệ: {classes}.",
        "seconds_range": "Thời lượng phải từ 1 đến {max} giây.",
        "hotline_not_found": "Có số hotline không tồn tại.",
        "hotline_taken": "Số hotline này đã có.",
        "trunk_not_found": "Không tìm thấy trunk này.",
        "trunk_name_taken": "Đã có trunk tên này.",
        "trunk_address_invalid": "Địa chỉ phải là một địa chỉ IP (IPv4 hoặc IPv6) của nhà mạng.",
        "trunk_port_range": "Cổng phải từ 1 đến 65535.",
        "trunk_transport_unknown": "Giao thức phải là UDP, TCP hoặc TLS.",
        "trunk_format_unknown": "Định dạng số phải là E.164 hoặc quốc gia.",
        "trunk_position_range": "Thứ tự phải từ 1 đến {max}.",
        "trunk_password_unsafe": "Mật khẩu không được chứa ký tự điều khiển ({characters}).",
        "trunk_password_length": "Mật khẩu tối đa {max} ký tự.",
        "trunk_credential_ascii": "Chỉ dùng chữ không dấu, chữ số và ký hiệu ASCII "
                                  "(nhà mạng không nhận ký tự khác).",
        "trunk_username_required": "Có mật khẩu thì phải có tên đăng nhập.",
        "trunk_password_required": "Vui lòng nhập mật khẩu cho tên đăng nhập này.",
        "default_hotline_not_listed": "Hotline mặc định phải nằm trong các hotline được dùng.",
        "profile_name_taken": "Đã có hồ sơ gọi tên này.",
        "profile_not_found": "Không tìm thấy hồ sơ gọi này.",
        "profile_changed": "Hồ sơ gọi vừa được người khác sửa; hãy tải lại trang.",
        "assignment_target_not_found": "Không tìm thấy đối tượng được gán hồ sơ gọi.",
        "nothing_assigned": "Chưa gán hồ sơ gọi nào ở đây.",
        "name_required": "Vui lòng nhập tên (tối đa 100 ký tự).",
        "call_allowed": "Được gọi.",
        "call_emergency": "Số khẩn cấp: luôn được gọi.",
        "call_class_not_allowed": "Hồ sơ gọi không cho gọi loại số này.",
        "call_outgoing_off": "Hồ sơ gọi không cho gọi ra ngoài.",
        "call_outside_working_hours": "Ngoài giờ làm việc: hồ sơ gọi không cho gọi ra ngoài.",
        "call_no_caller_id": "Chưa có hotline nào để hiển thị khi gọi ra.",
        "call_caller_id_not_allowed": "Hồ sơ gọi không cho dùng số hiển thị này.",
        "admin_only": "Chỉ quản trị viên được làm việc này.",
        "period_invalid": "Khoảng giờ làm việc không hợp lệ (giờ bắt đầu phải trước giờ kết thúc).",
        "periods_overlap": "Các khoảng giờ làm việc trong cùng một ngày bị chồng lên nhau.",
        "holiday_taken": "Ngày {day} đã là ngày nghỉ lễ.",
        "holiday_not_found": "Không tìm thấy ngày nghỉ lễ này.",
        "job_role_taken": "Đã có chức danh tên này.",
        "job_role_not_found": "Không tìm thấy chức danh này.",
        "extension_not_found": "Không có agent đang hoạt động với số máy lẻ {extension}.",
        "phone_has_extension": "{number} có kèm số nhánh (ext, x, ;ext=); chỉ nhập số điện thoại.",
        "text_refused": "Có ký tự không được phép (ký tự điều khiển hoặc mã Unicode lỗi).",
        "single_line": "Chỉ được nhập trên một dòng.",
        "number_too_long": "Số quá dài (tối đa {max} chữ số).",
        "malformed_json": "Nội dung gửi lên không phải JSON hợp lệ.",
        "json_too_deep": "JSON lồng nhau quá sâu (tối đa {max} cấp).",
        "body_too_large": "Dữ liệu gửi lên quá lớn (tối đa {max}).",
        "method_not_allowed": "Địa chỉ này không nhận phương thức này.",
        "value_refused_by_database": "Có giá trị vượt quá giới hạn lưu trữ.",
    },
    "en": {
        "employee_unknown": "No active employee with this id.",
        "employee_has_open_ticket": "This employee already has ticket #{ticket_id} in progress.",
        "employee_has_agent": "This employee already has extension {extension}.",
        "employee_has_no_agent": "This employee has no active agent account.",
        "webphone_no_agent":
            "You hold no active agent account, so the web phone is not available to you.",
        "webphone_not_configured": "The web phone is not set up on this system.",
        "credential": "This SIP password link does not exist.",
        "credential_gone": "This SIP password has been seen already or has expired.",
        "credential_unreadable":
            "The stored SIP password cannot be read: ask a manager for a new one.",
        "device_link": "This setup link does not exist.",
        "device_link_gone": "This setup link has been used already or has expired.",
        "details_too_long": "Details may be at most {max} characters.",
        "comment_too_long": "A comment may be at most {max} characters.",
        "extension_digits": "An extension contains digits only.",
        "extension_zero": "An extension cannot be 0.",
        "extension_leading_zero": "An extension cannot start with 0.",
        "extension_length": "An extension must have exactly {length} digits.",
        "extension_prefix": "An extension must start with {prefix}.",
        "extension_reserved": "This extension is reserved.",
        "extension_taken": "Extension {extension} is in use by {holder}.",
        "extension_pending": "Extension {extension} is requested by ticket #{ticket_id}.",
        "extension_none_free": "No free extension is left under the current policy.",
        "nothing_to_change":
            "A change ticket must change the extension, the routing or the SIP password.",
        "routing_type_unknown": "Unknown routing type.",
        "phone_required": "Please enter a phone number.",
        "phone_invalid": "{number} is not a valid phone number.",
        "backup_same_as_priority": "The backup number must differ from the priority number.",
        "reason_required": "Please give a reason for the rejection.",
        "email_invalid": "Invalid email address.",
        "text_unsafe": "The {field} must not contain control characters or line breaks "
                       "({characters}).",
        "text_required": "The {field} is missing (at most {max} characters).",
        "text_too_long": "The {field} has at most {max} characters.",
        "branch_unknown": "A branch does not exist.",
        "policy_length_range": "Extensions must have between {min} and {max} digits.",
        "policy_prefix_digits": "The leading sequence contains digits only.",
        "policy_prefix_zero": "The leading sequence cannot start with 0.",
        "policy_prefix_too_long": "The leading sequence must be shorter than {length} digits.",
        "policy_breaks_extensions": "The new policy would invalidate extensions in use: "
        "{extensions}.",
        "unknown_user": "A person to notify does not exist.",
        "error": "The request could not be done.",
        "not_found": "Not found.",
        "ticket_not_found": "Ticket #{ticket_id} not found.",
        "agent_not_found": "Agent #{agent_id} not found.",
        "branch_not_found": "Branch #{branch_id} not found.",
        "department_not_found": "Department #{department_id} not found.",
        "notification_not_found": "Notification #{notification_id} not found.",
        "organisation_missing": "The organisation is not set up yet.",
        "forbidden": "You are not allowed to do this.",
        "not_an_approver": "Only approvers and admins may do this.",
        "own_ticket": "You cannot decide on your own ticket.",
        "out_of_scope": "This ticket is outside the branches you approve for.",
        "not_requester": "Only the requester or an admin may cancel this ticket.",
        "transition_not_allowed": "Can't {action} when in {state}.",
        "ticket_changed": "Ticket #{ticket_id} was just changed by someone else; reload it.",
        "extension_race": "Another ticket just took this extension; pick another one.",
        "employee_race": "Another ticket was just filed for this employee; reload.",
        "conflict": "The data just changed; reload and try again.",
        "unauthorized": "Please sign in.",
        "login_failed": "Wrong email or password.",
        "invalid": "Invalid input.",
        "file_too_large": "The file is too large (at most 5 MB).",
        "branch_kind_unknown": "Unknown kind of unit.",
        "structure_has_agents": (
            "{count} people here still hold an active agent account; revoke them first."
        ),
        "import_branch_unknown": "There is no branch «{branch}».",
        "import_department_required": "The department is missing.",
        "import_name_required": "The full name is missing (at most {max} characters).",
        "import_code_too_long": "An employee code has at most {max} characters.",
        "import_code_repeated": "Employee code {code} appears twice in the file.",
        "import_has_errors": "The file has {count} rows with errors; nothing was written.",
        "import_file_unreadable": "The CSV file could not be read (columns needed: {columns}).",
        "user_not_found": "User not found.",
        "email_taken": "This email already belongs to a user.",
        "last_admin": "This is the last active admin; make someone else admin first.",
        "reserved_digits": "Reserved numbers must be extensions, separated by commas.",
        "csrf_failed": "The form expired or is not valid; reload the page and try again.",
        "too_many_requests": "Too many attempts; wait a moment and try again.",
        "too_many_sign_ins": "Too many failed sign-ins; try again in {minutes} minute(s).",
        "json_required": "Requests that change data must be sent as JSON "
                         "(Content-Type: application/json) or carry an X-CSRFToken header.",
        "server_error": "Something went wrong on our side; nothing you saved was lost.",
        "registrations_unreadable": "The devices registered on the phone system cannot be "
                                    "read right now; try again later.",
        "forwarding_not_allowed":
            "This employee's calling profile does not allow forwarding to outside numbers.",
        "forward_class_not_allowed":
            "This employee's calling profile does not allow calling: {classes}.",
        "forwards_would_break": "This change would put {count} forwarding agents outside "
                                "their calling profile: {extensions}. Change their routing "
                                "first.",
        "number_invalid": "{number} is not a number that can be called.",
        "class_unknown": "Unknown number class: {classes}.",
        "seconds_range": "A duration must be 1 to {max} seconds.",
        "hotline_not_found": "A hotline does not exist.",
        "hotline_taken": "This hotline already exists.",
        "trunk_not_found": "This trunk was not found.",
        "trunk_name_taken": "A trunk with this name already exists.",
        "trunk_address_invalid": "The address must be the carrier's IP address (IPv4 or IPv6).",
        "trunk_port_range": "The port must be between 1 and 65535.",
        "trunk_transport_unknown": "The transport must be UDP, TCP or TLS.",
        "trunk_format_unknown": "The number format must be E.164 or national.",
        "trunk_position_range": "The position must be between 1 and {max}.",
        "trunk_password_unsafe": "The password may not contain control characters ({characters}).",
        "trunk_password_length": "The password may have at most {max} characters.",
        "trunk_credential_ascii": "Use only unaccented letters, digits and ASCII symbols "
                                  "(carriers accept no others).",
        "trunk_username_required": "A password needs a username.",
        "trunk_password_required": "Please enter the password for this username.",
        "default_hotline_not_listed": "The default hotline must be one of the hotlines used.",
        "profile_name_taken": "A calling profile with this name already exists.",
        "profile_not_found": "This calling profile does not exist.",
        "profile_changed": "Someone else just changed this calling profile; reload the page.",
        "assignment_target_not_found": "What the calling profile is assigned to does not exist.",
        "nothing_assigned": "No calling profile is assigned here.",
        "name_required": "Please enter a name (at most 100 characters).",
        "call_allowed": "Allowed.",
        "call_emergency": "An emergency number: always allowed.",
        "call_class_not_allowed": "The calling profile does not allow this kind of number.",
        "call_outgoing_off": "The calling profile does not allow calling out.",
        "call_outside_working_hours":
            "Outside working hours: the calling profile does not allow calling out.",
        "call_no_caller_id": "There is no hotline to present when calling out.",
        "call_caller_id_not_allowed": "The calling profile does not allow this caller ID.",
        "admin_only": "Only admins may do this.",
        "period_invalid": "A working period is not valid (it must start before it ends).",
        "periods_overlap": "Working periods of the same day overlap.",
        "holiday_taken": "{day} is already a public holiday.",
        "holiday_not_found": "This public holiday does not exist.",
        "job_role_taken": "A job role with this name already exists.",
        "job_role_not_found": "This job role does not exist.",
        "extension_not_found": "No active agent has extension {extension}.",
        "phone_has_extension": "{number} includes an extension (ext, x, ;ext=); "
                               "give the phone number alone.",
        "text_refused": "Contains a character that is not allowed (a control character or "
                        "broken Unicode).",
        "single_line": "Must be a single line.",
        "number_too_long": "A number has at most {max} digits.",
        "malformed_json": "The body is not valid JSON.",
        "json_too_deep": "The JSON is nested too deeply (at most {max} levels).",
        "body_too_large": "The request is too large (at most {max}).",
        "method_not_allowed": "This address does not accept this method.",
        "value_refused_by_database": "A value is beyond what can be stored.",
    },
}

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

#: Names of states and actions, for messages such as "Can't approve when in rejected."
WORDS = {
    "vi": {
        "approve": "duyệt", "reject": "từ chối", "cancel": "huỷ", "retry": "thử lại",
        "start": "bắt đầu", "complete": "hoàn tất", "fail": "đánh dấu lỗi",
        "submitted": "chờ duyệt", "approved": "đã duyệt", "provisioning": "đang cấu hình",
        "provisioned": "hoàn tất", "rejected": "bị từ chối", "cancelled": "đã huỷ",
        "failed": "thất bại",
        "internal": "nội bộ", "landline": "cố định trong nước", "mobile": "di động trong nước",
        "international": "quốc tế", "special": "dịch vụ đặc biệt (1900, 1800, số ngắn)",
    },
    "en": {
        "landline": "domestic landline", "mobile": "domestic mobile",
        "special": "special services (1900, 1800, short codes)",
    },
}


#: The fields a message may name (the `field` parameter of text problems).
FIELD_NAMES = {
    "vi": {"full_name": "họ tên", "name": "tên", "employee_code": "mã nhân viên",
           "email": "email", "department": "phòng ban", "branch": "chi nhánh",
           "auth_username": "tên đăng nhập", "auth_realm": "realm"},
    "en": {"full_name": "full name", "name": "name", "employee_code": "employee code",
           "email": "email", "department": "department", "branch": "branch",
           "auth_username": "username", "auth_realm": "realm"},
}


def render(code: str, params: Mapping[str, Any], language: str) -> str:
    """The message for `code` in `language`, with its parameters filled in."""
    table = MESSAGES.get(language, MESSAGES["vi"])
    words = WORDS.get(language, {})
    values = {
        key: ", ".join(words.get(str(each), str(each)) for each in value)
        if isinstance(value, list | tuple)
        else words.get(str(value), value)
        for key, value in params.items()
    }
    if "field" in params:
        field = str(params["field"])
        values["field"] = FIELD_NAMES.get(language, FIELD_NAMES["vi"]).get(field, field)
    template = table.get(code) or MESSAGES["en"].get(code) or code
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
_OUR_ENGLISH = {text: code for code, text in MESSAGES["en"].items() if "{" not in text}
