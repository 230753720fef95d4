"""The OPRF of blind discovery is RFC 9497's (OPRF mode, ristretto255-SHA512): the RFC's own
test vectors (Appendix A.1.1), and the protocol's refusals."""

from __future__ import annotations

import pytest

from jointwatch.sharing import oprf

SEED = bytes.fromhex("a3" * 32)
KEY_INFO = bytes.fromhex("74657374206b6579")       # "test key"
SECRET = "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e"
BLIND = "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706"
VECTORS = [
    ("00", "609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c",
     "7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e",
     "527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3"
     "ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6"),
    ("5a" * 17, "da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418",
     "b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25",
     "f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4"
     "f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621306d18951e7cf2c73"),
]


def test_derive_key_pair_gives_the_rfc_secret_key() -> None:
    assert oprf.derive_key(SEED, KEY_INFO).hex() == SECRET


@pytest.mark.parametrize(("value", "blinded", "evaluated", "output"), VECTORS)
def test_rfc_9497_vectors(value: str, blinded: str, evaluated: str, output: str) -> None:
    key = bytes.fromhex(SECRET)
    r, element = oprf.blind(bytes.fromhex(value), bytes.fromhex(BLIND))
    assert element.hex() == blinded
    answer = oprf.blind_evaluate(key, element)
    assert answer.hex() == evaluated
    assert oprf.finalize(bytes.fromhex(value), r, answer).hex() == output
    assert oprf.evaluate(key, bytes.fromhex(value)).hex() == output


def test_a_random_blind_gives_the_same_output_and_an_unrelated_element() -> None:
    key = oprf.derive_key(SEED, b"another")
    r1, e1 = oprf.blind(b"s:trk")
    r2, e2 = oprf.blind(b"s:trk")
    assert e1 != e2
    out = oprf.finalize(b"s:trk", r1, oprf.blind_evaluate(key, e1))
    assert out == oprf.finalize(b"s:trk", r2, oprf.blind_evaluate(key, e2)) == oprf.evaluate(key, b"s:trk")
    assert out != oprf.evaluate(key, b"s:trq")
    assert out != oprf.evaluate(oprf.derive_key(SEED, b"other"), b"s:trk")


@pytest.mark.parametrize("element", [bytes(32), b"\xff" * 32, b"short", bytes(33)])
def test_an_invalid_or_identity_element_is_refused(element: bytes) -> None:
    with pytest.raises(oprf.OprfError):
        oprf.blind_evaluate(oprf.derive_key(SEED, KEY_INFO), element)


def test_expand_message_xmd_matches_rfc_9380_sha512() -> None:
    # RFC 9380 appendix K.3 (expand_message_xmd, SHA-512), msg "", len 0x20
    dst = b"QUUX-V01-CS02-with-expander-SHA512-256"
    assert oprf.expand_message_xmd(b"", dst, 0x20).hex() == (
        "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba")
