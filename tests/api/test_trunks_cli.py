"""`agentdesk pbx trunks`: list, add, set, remove, with the pages' rules and audit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from web.cli import cli


def test_trunks_are_managed_from_the_command_line(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    added = runner.invoke(cli, ["pbx", "trunks", "add", "--name", "VNPT", "--address",
                                "203.162.4.1", "--number", "028 7300 1234", "--username",
                                "agentdesk", "--password-stdin"], input="bi mat;1\n")
    assert added.exit_code == 0, added.output
    assert "trunk 1 VNPT at position 1" in added.output
    second = runner.invoke(cli, ["pbx", "trunks", "add", "--name", "Viettel", "--address",
                                 "2001:db8::10", "--number", "+842473005678", "--transport",
                                 "tls", "--port", "5061", "--position", "1"])
    assert second.exit_code == 0, second.output
    refused = runner.invoke(cli, ["pbx", "trunks", "add", "--name", "X", "--address",
                                  "carrier.example", "--number", "12"])
    assert refused.exit_code == 1
    assert "address: The address must be the carrier's IP address" in refused.output
    assert "number: 12 is not a valid phone number." in refused.output
    changed = runner.invoke(cli, ["pbx", "trunks", "set", "VNPT", "--disabled",
                                  "--format", "national"])
    assert changed.exit_code == 0, changed.output
    listed = runner.invoke(cli, ["pbx", "trunks", "list"]).output.splitlines()
    assert listed == [
        "  1 Viettel: 2001:db8::10:5061/tls, +842473005678 (e164), no credentials, enabled",
        "  2 VNPT: 203.162.4.1:5060/udp, +842873001234 (national), user agentdesk, "
        "password set, disabled"]
    assert runner.invoke(cli, ["pbx", "trunks", "remove", "Viettel"]).exit_code == 0
    assert runner.invoke(cli, ["pbx", "trunks", "remove", "Viettel"]).exit_code == 1
    with sqlite3.connect(tmp_path / "cli.db") as database:
        sealed = database.execute("SELECT auth_password_sealed FROM trunk").fetchall()
        trail = database.execute("SELECT actor_id, changes FROM calling_change").fetchall()
    assert sealed and "bi mat" not in sealed[0][0]
    assert len(trail) == 4 and all(actor is None and "bi mat" not in changes
                                   for actor, changes in trail)
