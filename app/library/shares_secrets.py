"""The secrets of a share link: its token (kept only as a SHA-256), its optional password
(kept only as a scrypt hash, a slow KDF: guessing costs memory and time per try) and the
signature of the cookie a right password earns (an HMAC of the share's id under a
random secret of the share's own, never the password)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from . import rules

# scrypt's cost (RFC 7914): n=2**14, r=8 → 16 MiB and some tens of milliseconds a try.
# Stored with each hash, so a later change keeps old hashes readable.
SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
SCRYPT_LEN: Final = 32
_SCHEME: Final = "scrypt"


def new_token() -> str:
    """The part of a link that lets it in: URL-safe, ``SHARE_TOKEN_BYTES`` random bytes."""
    return secrets.token_urlsafe(rules.SHARE_TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What is stored and looked up. A plain hash suffices: the token has 256 random
    bits, so nothing can be guessed from the hash (no dictionary to try)."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def new_session_secret() -> str:
    return secrets.token_hex(32)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != _SCHEME:
            return False
        given = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(given, bytes.fromhex(digest))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=128 * r * (n + p + 2) + 1024 * 1024,
        dklen=SCRYPT_LEN,
    )


def session_value(share_id: str, session_secret: str) -> str:
    """The cookie's value for a share whose password was given."""
    return hmac.new(bytes.fromhex(session_secret), share_id.encode(), hashlib.sha256).hexdigest()


def check_session(share_id: str, session_secret: str, value: str | None) -> bool:
    if not value:
        return False
    expected = session_value(share_id, session_secret)
    return hmac.compare_digest(expected.encode(), value.encode("utf-8", "surrogateescape"))
