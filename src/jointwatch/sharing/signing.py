"""Ed25519 signatures over canonical JSON: how a federation bundle proves which server made it
and that nobody changed it on the way.

Canonical JSON is sorted keys, UTF-8, no spaces: the bytes signed are the bytes sent (the
bundle travels as that text), so the receiver checks exactly what the sender signed and never
depends on two JSON libraries agreeing on a re-encoding. Keys are exchanged out of band
(``jointwatch share keys show`` on one side, ``share links add --peer-key`` on the other) and
rotated: the old key is retired, never deleted.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from jointwatch.errors import BundleRefusedError
from jointwatch.store import Engine, SigningKey, add_signing_key, current_signing_key


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON value that is signed."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _new_key_id() -> str:
    return f"ed25519-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"


def rotate_signing_key(engine: Engine) -> SigningKey:
    """A new current key; the one before is retired but kept (bundles it signed stay checkable)."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return add_signing_key(engine, _new_key_id(), pem, base64.b64encode(raw).decode("ascii"))


def signing_key(engine: Engine) -> SigningKey:
    """This server's current key, made on first use (a fresh server can sign at once)."""
    return current_signing_key(engine) or rotate_signing_key(engine)


def sign(key: SigningKey, payload: bytes) -> str:
    """The base64 Ed25519 signature of ``payload`` by ``key``."""
    private = serialization.load_pem_private_key(key.private_key.encode("ascii"), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    return base64.b64encode(private.sign(payload)).decode("ascii")


def public_key(text: str) -> Ed25519PublicKey:
    """A peer's public key from its base64 raw form; ValueError when it is not one."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def verify(peer_keys: Mapping[str, str], key_id: str, payload: bytes, signature: str) -> None:
    """Raise BundleRefusedError unless ``signature`` is ``key_id``'s over ``payload`` and ``key_id`` is
    one of ``peer_keys`` (the link's, exchanged out of band)."""
    if key_id not in peer_keys:
        raise BundleRefusedError(f"bundle signed by unknown key {key_id[:64]!r}")
    try:
        key = public_key(peer_keys[key_id])
        key.verify(base64.b64decode(signature, validate=True), payload)
    except (InvalidSignature, ValueError, binascii.Error):
        raise BundleRefusedError("bundle signature does not verify: changed after signing, or not the peer's") \
            from None
