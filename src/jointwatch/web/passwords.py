"""Console passwords: scrypt (RFC 7914) from the standard library, with a random salt and the
parameters kept in the stored string, so they can be raised later without locking anyone out.

Why scrypt and not argon2: scrypt is memory-hard too and ships with Python (``hashlib.scrypt``,
OpenSSL's), so the console adds no compiled dependency; the string names its algorithm, so a
later argon2 hash can sit beside these.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from jointwatch.errors import InvalidInputError

ALGORITHM = "scrypt"
# n=2**15, r=8: 32 MiB and about 0.1 s per check on one core: slow for a guesser, fine for a sign-in
N, R, P = 2**15, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32
MIN_LENGTH = 12   # NIST SP 800-63B: length over composition rules
MAX_LENGTH = 1024  # a bound on the work one sign-in can cost


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem: OpenSSL's default (32 MiB) is just short of n=2**15, r=8
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES,
                          maxmem=256 * 1024 * 1024)


def check_new_password(password: str) -> str:
    """``password`` if it is long enough to set; InvalidInputError otherwise."""
    if len(password) < MIN_LENGTH:
        raise InvalidInputError(f"a console password has at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInputError(f"a console password has at most {MAX_LENGTH} characters")
    return password


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) of a new password."""
    check_new_password(password)
    salt = secrets.token_bytes(SALT_BYTES)
    return f"{ALGORITHM}${N}${R}${P}${_b64(salt)}${_b64(_scrypt(password, salt, N, R, P))}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (constant-time comparison)."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != ALGORITHM or len(password) > MAX_LENGTH:
        return False
    n, r, p = (int(x) for x in parts[1:4])
    return hmac.compare_digest(_scrypt(password, _unb64(parts[4]), n, r, p), _unb64(parts[5]))


# checked against when the user does not exist, so an unknown name costs as long as a wrong password
DUMMY_HASH = f"{ALGORITHM}${N}${R}${P}${_b64(b'0' * SALT_BYTES)}${_b64(b'0' * HASH_BYTES)}"
