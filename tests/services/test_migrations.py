"""Migrations build the schema from nothing on both databases, and match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from tests.support.apps import fresh_pg_database, settings_for, worker_suffix
from web import create_app
from web.extensions import db
from workflow.models import Base
from workflow.people import queries as people_queries


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return fresh_pg_database(f"agentdesk_migrations_{worker_suffix()}")


def test_upgrade_from_empty_matches_the_models_and_downgrades_cleanly(
    empty_database_url: str,
) -> None:
    app = create_app(settings_for(empty_database_url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            drift = compare_metadata(context, Base.metadata)
        assert drift == [], f"models and migrations differ: {drift}"
        indexes = {index["name"] for index in inspect(db.engine).get_indexes("agent")}
        assert {"uq_agent_active_extension", "uq_agent_active_employee"} <= indexes
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_upgrading_gives_existing_employees_their_search_and_sort_names(
    empty_database_url: str,
) -> None:
    app = create_app(settings_for(empty_database_url))
    with app.app_context():
        upgrade(revision="0008")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO organisation (id, name, extension_length, extension_prefix,"
                " reserved_extensions) VALUES (1, 'Công ty', 4, '', '[]')"))
            connection.execute(text("INSERT INTO branch (id, organisation_id, name, kind, active)"
                                    " VALUES (1, 1, 'Hà Nội', 'office', true)"))
            connection.execute(text("INSERT INTO department (id, branch_id, name, active)"
                                    " VALUES (1, 1, 'Kinh doanh', true)"))
            connection.execute(text(
                "INSERT INTO employee (id, department_id, full_name, active) VALUES"
                " (1, 1, 'Nguyễn Thị Bình', true), (2, 1, 'Đặng Văn An', true)"))
        upgrade()
        found = people_queries.list_employees(db.session(), 1, "NGUYEN")
        assert [employee.full_name for employee, _agent in found] == ["Nguyễn Thị Bình"]
        everyone = people_queries.list_employees(db.session(), 1)
        assert [employee.full_name for employee, _agent in everyone] == [
            "Đặng Văn An", "Nguyễn Thị Bình"]
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()
