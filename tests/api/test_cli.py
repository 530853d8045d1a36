"""The `agentdesk` command: users, tokens and demo data on a fresh database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from web.cli import cli


def test_users_and_tokens_can_be_created_from_the_command_line(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["seed-demo"]).exit_code == 0
    created = runner.invoke(
        cli, ["users", "create", "Lead@Demo.vn", "--role", "approver", "--branch", "1",
              "--password-stdin"], input="a-strong-password\n",
    )
    assert created.exit_code == 0, created.output
    assert "lead@demo.vn (approver)" in created.output
    token = runner.invoke(cli, ["tokens", "create", "lead@demo.vn"])
    assert token.exit_code == 0 and len(token.output.strip()) >= 40
    unknown = runner.invoke(cli, ["tokens", "create", "nobody@demo.vn"])
    assert unknown.exit_code != 0 and "no active user" in unknown.output
    short = runner.invoke(cli, ["users", "create", "x@demo.vn", "--role", "admin",
                                "--password-stdin"], input="abc\n")
    assert short.exit_code != 0
    bad_branch = runner.invoke(cli, ["users", "create", "y@demo.vn", "--role", "approver",
                                     "--branch", "99", "--password-stdin"], input="long-pass\n")
    assert bad_branch.exit_code != 0 and "branch_unknown" in bad_branch.output


def test_the_worker_needs_redis(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["worker"])
    assert result.exit_code != 0 and "REDIS_URL" in result.output


def test_reconcile_repairs_the_built_in_directory(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["seed-demo"]).exit_code == 0
    assert runner.invoke(cli, ["pbx", "reconcile"]).output.strip() == (
        "the phone system matches the agent list")
    database = sqlite3.connect(tmp_path / "cli.db")
    with database:
        database.execute(
            "INSERT INTO phone_directory_entry (sip_username, extension, routing_type, "
            "secret_digest, updated_at) VALUES ('stray', '5999', 'app_web', 'x', '2026-01-01')")
    database.close()
    found = runner.invoke(cli, ["pbx", "reconcile"])
    assert found.exit_code == 1 and "orphan    stray" in found.output
    repaired = runner.invoke(cli, ["pbx", "reconcile", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert runner.invoke(cli, ["pbx", "reconcile"]).exit_code == 0
