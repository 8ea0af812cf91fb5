"""Keyed pseudonymisation of personal identifiers (victims, perpetrators).

Raw identifiers are replaced at ingest by HMAC-SHA256(key, id) (RFC 2104; the ICO's
anonymisation guidance describes keyed hashing as pseudonymisation: the data stay personal data,
but cannot be linked back without the key). The key comes from the environment variable
``SMP_PSEUDONYM_KEY`` or from a key file named in params; ``smp keygen`` writes a new random
key file readable by its owner only. This package never writes a key anywhere else.

Victim identifiers are enumerable (V000001, V000002, ...), so whoever can guess the key can
reverse every pseudonym by hashing all candidate IDs. The key must therefore be random: keys
with fewer than about 80 bits of estimated strength, or made mostly of words, repeats,
sequences or keyboard patterns, are refused (:func:`check_key`, using the zxcvbn estimator of
Wheeler, USENIX Security 2016). Random keys of 32 hex digits or more always pass.

The store keeps a *verifier* of the key, so that extracts hashed with different keys are never
mixed: scrypt (RFC 7914) of the key with a random salt, at the OWASP-recommended cost
(N=2**17, r=8, p=1). Checking one guess costs about 0.1 s and 128 MB, so the verifier does not
make guessing cheap.

Two stores built with the same key give the same pseudonym to the same person, so their rows
can be linked; a separate key per store (or per partnership) keeps them apart.

>>> k = bytes.fromhex("61bf6283f087eca5fe7b5a0656cfe2b9745c0c92b10e969e")
>>> pseudonym("V000123", k) == pseudonym("V000123", k)
True
>>> pseudonym("V000123", k) != pseudonym("V000124", k)
True
>>> len(pseudonym("V000123", k))
32
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

KEY_ENV = "SMP_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 16
# zxcvbn's estimate of the guesses needed: 1e24 is about 2**80. A key from `smp keygen` (64 hex
# digits) scores about 1e64 and random 32-hex-digit keys at least ~1e26 (zxcvbn counts 10
# guesses a character); 'passwordpassword' scores 1e1. Famous phrases can score high
# ('thequickbrownfox...' 1e27), so a key made mostly of recognised patterns is refused too.
MIN_GUESSES_LOG10 = 24.0
MAX_PATTERN_SHARE = 0.5
# scrypt verifier (RFC 7914) at OWASP's recommended cost (Password Storage Cheat Sheet)
SCRYPT = {"n": 2 ** 17, "r": 8, "p": 1}
VERIFIER_PREFIX = "scrypt"


class KeyError_(RuntimeError):
    """No usable pseudonymisation key."""


def new_key() -> str:
    """A new random key: 256 bits from the operating system's CSPRNG, as 64 hex digits."""
    return secrets.token_hex(32)


def write_key_file(path: str | Path) -> Path:
    """Write a new random key to `path` (which must not exist), readable by its owner only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyError_(f"{path} already exists; a key file is never overwritten (its "
                        "pseudonyms would be lost): choose another name") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(new_key() + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, 0o600)  # in case the umask or the file system widened it
    return path


def check_key(key: bytes, *, source: str = "the pseudonymisation key") -> None:
    """Refuse a key that is short or guessable (dictionary words, repeats, sequences...).

    >>> try:
    ...     check_key(b"passwordpassword")
    ... except KeyError_ as exc:
    ...     print(str(exc)[:60])
    the pseudonymisation key is too easy to guess (a repeated pa
    """
    advice = ("create a random key with `smp keygen --out FILE` and name it in params "
              "(data.pseudonym_key_file)")
    if len(key) < MIN_KEY_LENGTH:
        raise KeyError_(f"{source} must be at least {MIN_KEY_LENGTH} characters long; {advice}")
    from zxcvbn import zxcvbn

    text = key.decode("utf-8", errors="replace")
    text = text[:72]  # zxcvbn's own length cap; 72 random characters are plenty
    estimate = zxcvbn(text)
    found = [m for m in estimate.get("sequence", []) if m.get("pattern") != "bruteforce"]
    share = sum(len(m["token"]) for m in found) / len(text)
    if estimate["guesses_log10"] < MIN_GUESSES_LOG10 or share >= MAX_PATTERN_SHARE:
        patterns = {m.get("pattern") for m in found}
        why = ("a dictionary word or common password" if "dictionary" in patterns
               else "a repeated pattern" if "repeat" in patterns
               else "a sequence" if "sequence" in patterns
               else "a keyboard pattern" if "spatial" in patterns
               else "not random enough")
        raise KeyError_(f"{source} is too easy to guess ({why}): {advice}")


def load_key(key_file: str | Path | None = None) -> bytes:
    """The key from $SMP_PSEUDONYM_KEY, else from `key_file`; refused unless it is random."""
    value = os.environ.get(KEY_ENV)
    if value:
        key, source = value.strip().encode(), f"the key in ${KEY_ENV}"
    elif key_file is not None:
        path = Path(key_file)
        try:
            key = path.read_bytes().strip()
        except FileNotFoundError:
            raise KeyError_(f"key file {path} not found; create one with `smp keygen --out "
                            f"{path}`") from None
        except OSError as exc:
            raise KeyError_(f"key file {path} cannot be read: {exc.strerror}") from None
        source = f"the key in {path}"
        _warn_if_readable_by_others(path)
    else:
        raise KeyError_(
            f"no pseudonymisation key: set the environment variable {KEY_ENV} or name a key "
            "file in params (data.pseudonym_key_file), made with `smp keygen --out FILE`; keep "
            "the key out of the repository")
    check_key(key, source=source)
    return key


def _warn_if_readable_by_others(path: Path) -> None:
    import warnings

    try:
        mode = path.stat().st_mode
    except OSError:
        return
    from .store.connection import is_synthetic

    if mode & (stat.S_IRWXG | stat.S_IRWXO) and not is_synthetic(path):
        warnings.warn(f"key file {path} can be read by other users; restrict it with "
                      f"`chmod 600 {path}`", stacklevel=3)


def pseudonym(identifier: str, key: bytes) -> str:
    """HMAC-SHA256 of an identifier, as 32 hex characters (128 bits)."""
    return hmac.new(key, identifier.strip().encode(), hashlib.sha256).hexdigest()[:32]


def pseudonyms(identifiers, key: bytes) -> list[str | None]:
    """Vector form; empty or missing identifiers stay missing."""
    return [pseudonym(i, key) if isinstance(i, str) and i.strip() else None
            for i in identifiers]


def _scrypt(key: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(key, salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)


def key_verifier(key: bytes) -> str:
    """A salted, slow verifier of `key` for the store: ``scrypt$n$r$p$salt$hash``."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(key, salt, **SCRYPT)
    return "$".join([VERIFIER_PREFIX, str(SCRYPT["n"]), str(SCRYPT["r"]), str(SCRYPT["p"]),
                     salt.hex(), digest.hex()])


@functools.lru_cache(maxsize=8)
def verify_key(key: bytes, verifier: str) -> bool:
    """True when `key` is the key `verifier` was made from.

    Stores made before the verifier kept a fast 16-hex-digit fingerprint; it is still
    accepted here, and the caller replaces it by a verifier (:func:`needs_upgrade`). Results
    are cached for the process, so one run pays the scrypt cost once.
    """
    if not verifier.startswith(VERIFIER_PREFIX + "$"):
        return hmac.compare_digest(_legacy_fingerprint(key), verifier)
    try:
        _, n, r, p, salt, digest = verifier.split("$")
        computed = _scrypt(key, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed.hex(), digest)


def needs_upgrade(verifier: str) -> bool:
    return not verifier.startswith(VERIFIER_PREFIX + "$")


def _legacy_fingerprint(key: bytes) -> str:
    return pseudonym("smp-analysis key fingerprint", key)[:16]
