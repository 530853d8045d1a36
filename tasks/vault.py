"""Fernet encryption for the SIP passwords agentdesk keeps until their employee sees them."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: Separates this key from anything else derived from SECRET_KEY.
_PURPOSE = b"agentdesk sip credentials"


class FernetCipher:
    """`Cipher` over one or more Fernet keys: the first encrypts, any of them decrypts."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = list(keys)
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, data: bytes, /) -> bytes:
        """The Fernet token for `data`."""
        return self._fernet.encrypt(data)

    def decrypt(self, token: bytes, /) -> bytes:
        """The data of `token`; ValueError when no key opens it."""
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as error:
            raise ValueError("no credential key opens this token") from error


def key_from_secret(secret_key: str) -> str:
    """A Fernet key derived from the app's SECRET_KEY (when CREDENTIAL_KEYS is not set)."""
    derived = HKDF(algorithm=SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret_key.encode())
    return base64.urlsafe_b64encode(derived).decode()


def cipher_for(credential_keys: str | None, secret_key: str) -> FernetCipher:
    """The cipher for comma-separated CREDENTIAL_KEYS (newest first), or one from SECRET_KEY."""
    keys = [key.strip() for key in (credential_keys or "").split(",") if key.strip()]
    return FernetCipher(keys or [key_from_secret(secret_key)])
