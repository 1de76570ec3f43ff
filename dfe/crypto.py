"""Lead providers' DfE API tokens, encrypted at rest with a key kept outside the database."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class TokenKeyMissing(ImproperlyConfigured):
    pass


def _fernet() -> Fernet:
    key = settings.DFE_TOKEN_KEY
    if not key:
        raise TokenKeyMissing(
            "DFE_TOKEN_KEY is not set: DfE API tokens cannot be stored or read. "
            "Make one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    try:
        return Fernet(key.encode() if isinstance(key, str) else key)
    except ValueError as exc:
        raise TokenKeyMissing("DFE_TOKEN_KEY is not a valid key (32 url-safe base64-encoded bytes).") from exc


def encrypt_token(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def decrypt_token(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        # The key changed since the token was stored: the token has to be entered again.
        raise TokenKeyMissing(
            "The stored DfE API token cannot be read with the current DFE_TOKEN_KEY."
        ) from exc
