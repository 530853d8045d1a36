"""`agentdesk pbx certificate`: a self-signed certificate and key for Kamailio's TLS port."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from web.cli import cli


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI runner with no SIP domain configured."""
    monkeypatch.delenv("SIP_DOMAIN", raising=False)
    return CliRunner()


def files(tmp_path: Path) -> list[str]:
    """The options that write into `tmp_path`."""
    return ["--certificate", str(tmp_path / "tls.pem"),
            "--private-key", str(tmp_path / "tls.key")]


def test_it_writes_a_certificate_for_the_name_and_addresses_and_a_private_key(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(cli, ["pbx", "certificate", "--host", "PBX.Example.vn",
                                 "--ip", "203.0.113.10", "--ip", "2001:db8::5",
                                 "--days", "30", *files(tmp_path)])
    assert result.exit_code == 0, result.output
    certificate = x509.load_pem_x509_certificate((tmp_path / "tls.pem").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["pbx.example.vn"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("203.0.113.10"), ipaddress.ip_address("2001:db8::5")]
    assert certificate.issuer == certificate.subject  # self-signed
    valid = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert valid.days == 30
    key = load_pem_private_key((tmp_path / "tls.key").read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.public_key().public_numbers() == certificate.public_key().public_numbers()
    assert stat.S_IMODE((tmp_path / "tls.key").stat().st_mode) == 0o600
    assert ("-A WITH_TLS "
            f"-A 'TLS_CERTIFICATE=\"{tmp_path / 'tls.pem'}\"' "
            f"-A 'TLS_PRIVATE_KEY=\"{tmp_path / 'tls.key'}\"'") in result.output


def test_the_name_defaults_to_the_configured_sip_domain(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = runner.invoke(cli, ["pbx", "certificate", *files(tmp_path)])
    assert missing.exit_code == 2
    assert "--host is required" in missing.output
    assert not (tmp_path / "tls.key").exists()
    monkeypatch.setenv("SIP_DOMAIN", "sip.agentdesk.test")
    assert runner.invoke(cli, ["pbx", "certificate", *files(tmp_path)]).exit_code == 0
    certificate = x509.load_pem_x509_certificate((tmp_path / "tls.pem").read_bytes())
    assert certificate.subject.rfc4514_string() == "CN=sip.agentdesk.test"


def test_existing_files_are_kept_unless_forced(runner: CliRunner, tmp_path: Path) -> None:
    command = ["pbx", "certificate", "--host", "pbx.example.vn", *files(tmp_path)]
    assert runner.invoke(cli, command).exit_code == 0
    first = (tmp_path / "tls.key").read_bytes()
    refused = runner.invoke(cli, command)
    assert refused.exit_code == 2
    assert "exists (--force replaces it)" in refused.output
    assert (tmp_path / "tls.key").read_bytes() == first
    (tmp_path / "tls.key").chmod(0o644)
    assert runner.invoke(cli, [*command, "--force"]).exit_code == 0
    assert (tmp_path / "tls.key").read_bytes() != first
    assert stat.S_IMODE((tmp_path / "tls.key").stat().st_mode) == 0o600


@pytest.mark.parametrize(("options", "error"), [
    (["--host", "not a host"], "is not a host name"),
    (["--host", "-pbx.example.vn"], "is not a host name"),
    (["--host", "pbx.example.vn", "--ip", "203.0.113.300"], "is not an IP address"),
    (["--host", "pbx.example.vn", "--days", "0"], "days must be between 1 and 3650"),
])
def test_bad_input_is_refused_with_a_clear_error_and_writes_nothing(
    runner: CliRunner, tmp_path: Path, options: list[str], error: str
) -> None:
    result = runner.invoke(cli, ["pbx", "certificate", *options, *files(tmp_path)])
    assert result.exit_code == 2
    assert error in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["pbx", "certificate", "--host", "pbx.example.vn",
                                 *files(tmp_path / "absent")])
    assert result.exit_code == 2
    assert "is not a directory" in result.output
