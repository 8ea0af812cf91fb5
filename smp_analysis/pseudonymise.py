"""Keyed pseudonymisation of personal identifiers (victims, perpetrators).

Raw identifiers are replaced at ingest by HMAC-SHA256(key, id) (RFC 2104; the ICO's
anonymisation guidance describes keyed hashing as pseudonymisation: the data stay personal data,
but cannot be linked back without the key). The key comes from the environment variable
``SMP_PSEUDONYM_KEY`` or from a key file named in params; it is never written by this package.
The store keeps only a fingerprint of the key (an HMAC of a fixed label) so that extracts hashed
with different keys are never mixed.

>>> k = b"example key"
>>> pseudonym("V000123", k) == pseudonym("V000123", k)
True
>>> pseudonym("V000123", k) != pseudonym("V000124", k)
True
>>> len(pseudonym("V000123", k))
32
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

KEY_ENV = "SMP_PSEUDONYM_KEY"


class KeyError_(RuntimeError):
    """No usable pseudonymisation key."""


def load_key(key_file: str | Path | None = None) -> bytes:
    """The key from $SMP_PSEUDONYM_KEY, else from `key_file`; at least 16 bytes."""
    value = os.environ.get(KEY_ENV)
    if value:
        key = value.encode()
    elif key_file is not None and Path(key_file).is_file():
        key = Path(key_file).read_bytes().strip()
    else:
        raise KeyError_(
            f"no pseudonymisation key: set the environment variable {KEY_ENV} or name a key "
            "file in params (data.pseudonym_key_file); keep the key out of the repository")
    if len(key) < 16:
        raise KeyError_("the pseudonymisation key must be at least 16 characters long")
    return key


def pseudonym(identifier: str, key: bytes) -> str:
    """HMAC-SHA256 of an identifier, as 32 hex characters (128 bits)."""
    return hmac.new(key, identifier.strip().encode(), hashlib.sha256).hexdigest()[:32]


def pseudonyms(identifiers, key: bytes) -> list[str | None]:
    """Vector form; empty or missing identifiers stay missing."""
    return [pseudonym(i, key) if isinstance(i, str) and i.strip() else None
            for i in identifiers]


def fingerprint(key: bytes) -> str:
    return pseudonym("smp-analysis key fingerprint", key)[:16]
