"""Digest authentication against the RFC 7616 §3.9.1 example vectors (MD5 and SHA-256)."""

from __future__ import annotations

from dialer.sip import digest

NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"


def _challenge(algorithm: str) -> digest.Challenge:
    value = (
        f'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, '
        f'nonce="{NONCE}", opaque="{OPAQUE}"'
    )
    challenge = digest.parse_challenge(value)
    assert challenge is not None
    return challenge


def _response(algorithm: str) -> str:
    return digest.compute_response(
        _challenge(algorithm),
        username="Mufasa",
        password="Circle of Life",
        method="GET",
        uri="/dir/index.html",
        cnonce=CNONCE,
        nc=1,
    )


def test_rfc7616_sha256_vector() -> None:
    assert (
        _response("SHA-256") == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    )


def test_rfc7616_md5_vector() -> None:
    assert _response("MD5") == "8ca523f5e9506fed4657c9700eebdbec"


def test_strongest_challenge_wins_and_header_verifies() -> None:
    values = [
        'Digest realm="r", nonce="n1", algorithm=MD5, qop="auth"',
        'Digest realm="r", nonce="n2", algorithm=SHA-256, qop="auth"',
        'Basic realm="r"',
    ]
    best = digest.best_challenge(values)
    assert best is not None and best.algorithm == "SHA-256"
    header = digest.authorization(best, username="u", password="p", method="INVITE", uri="sip:x@y")
    assert "algorithm=SHA-256" in header and "qop=auth" in header and "nc=00000001" in header
    assert digest.verify(header, password="p", method="INVITE")
    assert not digest.verify(header, password="wrong", method="INVITE")


def test_unusable_challenges_are_none() -> None:
    assert digest.parse_challenge('Digest realm="r"') is None
    assert digest.parse_challenge('Digest realm="r", nonce="n", algorithm=SHA-512-256') is None
    assert digest.parse_challenge('Digest realm="r", nonce="n", qop="auth-int"') is None
