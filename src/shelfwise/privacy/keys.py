"""The workspace's secret: where it comes from, and the two keys derived from it.

One 32-byte secret, from `SHELFWISE_PRIVACY_KEY` (base64) or the key file, feeds HKDF-SHA256 (RFC 5869, from
`cryptography`) twice: an AES-256-GCM key that seals vault records, and an HMAC-SHA256 key that makes
pseudonyms. Separate keys keep a pseudonym from saying anything about a ciphertext and vice versa. Losing the
secret makes the vault unreadable and changes every pseudonym, so the README tells the DPO to back it up apart
from the data.

The HMAC is computed inside DuckDB, set-based, as RFC 2104 spells it over DuckDB's SHA-256:
H((K xor opad) || H((K xor ipad) || m)). The padded keys exist only in a TEMP macro of the connection (never in a
file), and a test checks the macro against Python's `hmac` module.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import duckdb
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_ENV = "SHELFWISE_PRIVACY_KEY"
_SECRET_BYTES = 32
_NONCE_BYTES = 12
_BLOCK = 64  # SHA-256 block size, for the HMAC pads


class PrivacyKeyError(RuntimeError):
    """The secret is missing, unreadable or not the one the vault was sealed with."""


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"shelfwise " + purpose).derive(secret)


@dataclass(frozen=True)
class Keys:
    """The vault key and the pseudonym key of one workspace."""

    sealing: bytes
    pseudonym: bytes
    origin: str  # "environment" or the key file's path, for the record of processing

    @classmethod
    def from_secret(cls, secret: bytes, origin: str) -> Keys:
        """Derive both keys from the 32-byte secret."""
        if len(secret) != _SECRET_BYTES:
            raise PrivacyKeyError(f"the privacy key from {origin} must be {_SECRET_BYTES} bytes, it has {len(secret)}")
        return cls(_derive(secret, b"vault v1"), _derive(secret, b"pseudonym v1"), origin)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """AES-256-GCM with a random nonce; `context` (e.g. the record's id) is authenticated, not stored."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return nonce + AESGCM(self.sealing).encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        """The plaintext of `seal`; a wrong key, context or a changed byte is an error, never garbage."""
        try:
            return AESGCM(self.sealing).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise PrivacyKeyError(
                "a vault record does not open with this workspace's key (wrong SHELFWISE_PRIVACY_KEY or key "
                "file, or the vault was altered)"
            ) from None

    def hmac_pads(self) -> tuple[str, str]:
        """(inner, outer) padded keys as hex, for the SQL HMAC."""
        padded = self.pseudonym.ljust(_BLOCK, b"\0")
        inner = bytes(b ^ 0x36 for b in padded)
        outer = bytes(b ^ 0x5C for b in padded)
        return inner.hex(), outer.hex()

    def install(self, con: duckdb.DuckDBPyConnection) -> None:
        """Give the connection `sw_hmac(text)`: the hex HMAC-SHA256 of the text's UTF-8 bytes, truncated to 128 bits.

        Truncation (RFC 2104 section 5) keeps pseudonyms short in tables of tens of millions of rows; 128 bits
        leave collisions out of reach.
        """
        inner, outer = self.hmac_pads()
        con.execute(
            "CREATE OR REPLACE TEMP MACRO sw_hmac(message) AS "
            f"left(sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode(message)))), 32)"
        )


def load_keys(key_file: Path) -> Keys:
    """The workspace's keys: from the environment if set, else from the key file, created on first use."""
    given = os.environ.get(KEY_ENV)
    if given:
        return Keys.from_secret(_decode(given, KEY_ENV), "environment variable " + KEY_ENV)
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(new_secret() + "\n")
    try:
        text = key_file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise PrivacyKeyError(f"cannot read the privacy key file {key_file}: {error}") from None
    return Keys.from_secret(_decode(text, str(key_file)), str(key_file))


def new_secret() -> str:
    """A fresh secret, base64, for `SHELFWISE_PRIVACY_KEY` or a key file."""
    return base64.urlsafe_b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def _decode(text: str, origin: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        raise PrivacyKeyError(f"the privacy key from {origin} is not base64 text") from None
