"""The oblivious pseudorandom function of RFC 9497 (OPRF mode, ristretto255 with SHA-512).

An asker turns a value x into F(k, x) with the holder's key k, without the holder seeing x
and without the asker learning k: the asker sends r·H(x) for a random r, the holder returns
k·r·H(x), the asker removes r and hashes. The holder can compute F(k, x) on its own values
directly (``evaluate``), so both sides arrive at the same 64 bytes for the same x and at
unrelated bytes otherwise. The group operations are libsodium's (through ``rbcl``, which
ships it); the hashing around them follows the RFC, and the tests check the RFC's vectors.
"""

from __future__ import annotations

import hashlib

import rbcl

IDENTIFIER = b"ristretto255-SHA512"
CONTEXT = b"OPRFV1-" + bytes([0]) + b"-" + IDENTIFIER      # mode 0x00: the base OPRF
ELEMENT_BYTES = 32
SCALAR_BYTES = 32
OUTPUT_BYTES = 64
_IDENTITY = bytes(ELEMENT_BYTES)


class OprfError(ValueError):
    """An input the protocol must refuse (an element that is not a valid group element, or the identity)."""


def _i2osp(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def expand_message_xmd(message: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 section 5.3.1 with SHA-512 (the hash-to-curve expander the OPRF suite names)."""
    if len(dst) > 255 or length > 255 * 64:
        raise OprfError("expand_message_xmd: tag or length too long")
    ell = -(-length // 64)
    dst_prime = dst + _i2osp(len(dst), 1)
    b0 = hashlib.sha512(bytes(128) + message + _i2osp(length, 2) + b"\x00" + dst_prime).digest()
    blocks = [hashlib.sha512(b0 + b"\x01" + dst_prime).digest()]
    for i in range(2, ell + 1):
        mixed = bytes(a ^ b for a, b in zip(b0, blocks[-1], strict=True))
        blocks.append(hashlib.sha512(mixed + _i2osp(i, 1) + dst_prime).digest())
    return b"".join(blocks)[:length]


def hash_to_group(value: bytes) -> bytes:
    element = rbcl.crypto_core_ristretto255_from_hash(expand_message_xmd(value, b"HashToGroup-" + CONTEXT, 64))
    if element == _IDENTITY:
        raise OprfError("the input maps to the identity element")
    return element


def hash_to_scalar(value: bytes, dst: bytes) -> bytes:
    return rbcl.crypto_core_ristretto255_scalar_reduce(expand_message_xmd(value, dst, 64))


def derive_key(seed: bytes, info: bytes) -> bytes:
    """DeriveKeyPair's secret key: one key per (seed, info), so a holder keeps one seed and
    derives a key for each asker and day from it."""
    if len(seed) != 32:
        raise OprfError("the seed must be 32 bytes")
    derive_input = seed + _i2osp(len(info), 2) + info
    for counter in range(256):
        key = hash_to_scalar(derive_input + _i2osp(counter, 1), b"DeriveKeyPair" + CONTEXT)
        if key != bytes(SCALAR_BYTES):
            return key
    raise OprfError("no key could be derived")  # pragma: no cover - probability 2^-2000


def random_scalar() -> bytes:
    return rbcl.crypto_core_ristretto255_scalar_random()


def blind(value: bytes, scalar: bytes | None = None) -> tuple[bytes, bytes]:
    """(blind, blinded element) for ``value``; ``scalar`` fixes the blind (for the RFC's vectors)."""
    r = scalar if scalar is not None else random_scalar()
    return r, rbcl.crypto_scalarmult_ristretto255(r, hash_to_group(value))


def check_element(element: bytes) -> bytes:
    """A blinded or evaluated element as received from the other side, refused unless it is a
    valid encoding of a group element other than the identity (RFC 9497 section 4.3)."""
    if not isinstance(element, bytes) or len(element) != ELEMENT_BYTES:
        raise OprfError(f"an element is {ELEMENT_BYTES} bytes")
    # the top bit: a value of 2^255 or more is not canonical (RFC 9496 4.3.1), but the bundled
    # libsodium reads past it, which would give one element two encodings
    if element == _IDENTITY or element[-1] & 0x80 or not rbcl.crypto_core_ristretto255_is_valid_point(element):
        raise OprfError("not a valid ristretto255 element")
    return element


def blind_evaluate(key: bytes, blinded: bytes) -> bytes:
    """The holder's step: k times what the asker sent (which the holder cannot read)."""
    return rbcl.crypto_scalarmult_ristretto255(key, check_element(blinded))


def finalize(value: bytes, scalar: bytes, evaluated: bytes) -> bytes:
    """The asker's step: take the blind off and hash, giving F(k, value)."""
    unblinded = rbcl.crypto_scalarmult_ristretto255(
        rbcl.crypto_core_ristretto255_scalar_invert(scalar), check_element(evaluated))
    return _output(value, unblinded)


def evaluate(key: bytes, value: bytes) -> bytes:
    """F(k, value) computed by the key's holder on its own value (no blinding needed)."""
    return _output(value, rbcl.crypto_scalarmult_ristretto255(key, hash_to_group(value)))


def _output(value: bytes, element: bytes) -> bytes:
    return hashlib.sha512(_i2osp(len(value), 2) + value + _i2osp(len(element), 2) + element
                          + b"Finalize").digest()
