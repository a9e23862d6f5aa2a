"""Secrets the application must read back (a TOTP secret, an OpenID Connect client secret)
are stored sealed: encrypted and authenticated with Fernet under a key derived from the
application's SECRET_KEY. A database copy alone does not reveal them."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "f1:"


class SealError(ValueError):
    """Sealed with another key (SECRET_KEY changed), or damaged."""


def _fernet(key: str) -> Fernet:
    digest = hashlib.sha256(b"klachtroute-sealing\x00" + key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(plain: str, key: str) -> str:
    return PREFIX + _fernet(key).encrypt(plain.encode()).decode()


def unseal(sealed: str, key: str) -> str:
    if not sealed.startswith(PREFIX):
        raise SealError("not a sealed value")
    try:
        return _fernet(key).decrypt(sealed.removeprefix(PREFIX).encode()).decode()
    except InvalidToken as exc:
        raise SealError("sealed with another key, or damaged") from exc
