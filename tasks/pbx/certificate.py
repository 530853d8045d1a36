"""A self-signed certificate and private key for Kamailio's TLS listener (SIP over TLS)."""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: Where kamailio.cfg looks unless TLS_CERTIFICATE / TLS_PRIVATE_KEY say otherwise.
DEFAULT_CERTIFICATE = Path("/etc/kamailio/agentdesk-tls.pem")
DEFAULT_PRIVATE_KEY = Path("/etc/kamailio/agentdesk-tls.key")
#: RSA rather than EC: the key type every desk phone and softphone accepts.
KEY_BITS = 2048
MAX_DAYS = 3650

# A DNS name as certificates carry it: labels of letters, digits and inner hyphens.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)


class CertificateError(ValueError):
    """Input that cannot make a certificate (a bad name, address, validity or path)."""


@dataclass(frozen=True)
class Written:
    """Where the certificate and its key were written."""

    certificate: Path
    private_key: Path

    def kamailio_defines(self) -> list[str]:
        """The -A switches that start the shipped kamailio.cfg with this certificate."""
        return ["-A WITH_TLS", f"-A 'TLS_CERTIFICATE=\"{self.certificate}\"'",
                f"-A 'TLS_PRIVATE_KEY=\"{self.private_key}\"'"]


def check_host_name(name: str) -> str:
    """`name` lower-cased if it is a DNS name; CertificateError otherwise."""
    labels = name.rstrip(".").split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise CertificateError(f"{name!r} is not a host name")
    return name.rstrip(".").lower()


def parse_addresses(addresses: Sequence[str]) -> list[ipaddress.IPv4Address |
                                                       ipaddress.IPv6Address]:
    """The IP addresses given; CertificateError names the first that is none."""
    parsed = []
    for address in addresses:
        try:
            parsed.append(ipaddress.ip_address(address))
        except ValueError as error:
            raise CertificateError(f"{address!r} is not an IP address") from error
    return parsed


def make_certificate(host: str, addresses: Sequence[str], days: int,
                     now: datetime.datetime | None = None
                     ) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A self-signed server certificate for `host` (and `addresses`), valid `days` days."""
    host = check_host_name(host)
    ips = parse_addresses(addresses)
    if not 1 <= days <= MAX_DAYS:
        raise CertificateError(f"days must be between 1 and {MAX_DAYS}, not {days}")
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    start = (now or datetime.datetime.now(datetime.UTC)) - datetime.timedelta(minutes=5)
    alternatives: list[x509.GeneralName] = [x509.DNSName(host)]
    alternatives += [x509.IPAddress(ip) for ip in ips]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def write_certificate(host: str, addresses: Sequence[str], days: int,
                      certificate_path: Path, key_path: Path, force: bool = False) -> Written:
    """Make the certificate and write it (0644) and its key (0600, never readable by others
    even for a moment); existing files are kept unless `force`."""
    if certificate_path.resolve() == key_path.resolve():
        raise CertificateError("the certificate and the private key need two different files")
    for path in (certificate_path, key_path):
        if not path.parent.is_dir():
            raise CertificateError(f"{path.parent} is not a directory")
        if path.exists() and not force:
            raise CertificateError(f"{path} exists (--force replaces it)")
    certificate, key = make_certificate(host, addresses, days)
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    _write(key_path, key_pem, 0o600)
    _write(certificate_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    # Absolute: Kamailio reads a relative path from its own configuration directory.
    return Written(certificate_path.resolve(), key_path.resolve())


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write `data` to `path` created with `mode` (an existing file gets `mode` first)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(descriptor, mode)  # a replaced file keeps its old mode otherwise
    with os.fdopen(descriptor, "wb") as output:
        output.write(data)
