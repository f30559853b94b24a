"""HTTP digest authentication for SIP (RFC 7616 over RFC 3261 §22): MD5 and SHA-256, qop=auth.

Client side: parse a WWW-/Proxy-Authenticate challenge and compute the Authorization value.
Server side (the carrier simulator and tests): issue a challenge and verify a response.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from dialer.sip.fields import unquote
from dialer.sip.message import split_commas

HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
PREFERENCE = ("SHA-256", "SHA-256-SESS", "MD5", "MD5-SESS")


@dataclass(frozen=True, slots=True)
class Challenge:
    """One parsed `Digest ...` challenge."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False


def parse_challenge(value: str) -> Challenge | None:
    """Parse a `Digest realm=..., nonce=...` value; `None` if not a usable digest challenge."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params = parse_auth_params(rest)
    algorithm = params.get("algorithm", "MD5").upper()
    if (
        "realm" not in params
        or "nonce" not in params
        or algorithm.removesuffix("-SESS") not in HASHES
    ):
        return None
    qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
    if qop and "auth" not in qop:
        return None  # auth-int only: we do not hash bodies
    return Challenge(
        realm=params["realm"],
        nonce=params["nonce"],
        algorithm=algorithm,
        qop=qop,
        opaque=params.get("opaque"),
        stale=params.get("stale", "").lower() == "true",
    )


def parse_auth_params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in split_commas(text):
        name, sep, value = item.partition("=")
        if sep:
            params[name.strip().lower()] = unquote(value)
    return params


def best_challenge(values: list[str]) -> Challenge | None:
    """Among several challenges (RFC 7616 §3.7), the strongest algorithm we support."""
    parsed = [c for c in (parse_challenge(v) for v in values) if c is not None]
    parsed.sort(key=lambda c: PREFERENCE.index(c.algorithm))
    return parsed[0] if parsed else None


def _h(algorithm: str, text: str) -> str:
    return HASHES[algorithm.removesuffix("-SESS")](text.encode()).hexdigest()


def compute_response(
    challenge: Challenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    cnonce: str,
    nc: int,
) -> str:
    """The `response` value of RFC 7616 §3.4.1 (qop=auth, or RFC 2069 style without qop)."""
    alg = challenge.algorithm
    ha1 = _h(alg, f"{username}:{challenge.realm}:{password}")
    if alg.endswith("-SESS"):
        ha1 = _h(alg, f"{ha1}:{challenge.nonce}:{cnonce}")
    ha2 = _h(alg, f"{method}:{uri}")
    if "auth" in challenge.qop:
        return _h(alg, f"{ha1}:{challenge.nonce}:{nc:08x}:{cnonce}:auth:{ha2}")
    return _h(alg, f"{ha1}:{challenge.nonce}:{ha2}")


def authorization(
    challenge: Challenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    nc: int = 1,
    cnonce: str | None = None,
) -> str:
    """The Authorization / Proxy-Authorization header value answering `challenge`."""
    cnonce = cnonce or secrets.token_hex(8)
    response = compute_response(
        challenge,
        username=username,
        password=password,
        method=method,
        uri=uri,
        cnonce=cnonce,
        nc=nc,
    )
    parts = [
        f'username="{username}"',
        f'realm="{challenge.realm}"',
        f'nonce="{challenge.nonce}"',
        f'uri="{uri}"',
        f'response="{response}"',
        f"algorithm={challenge.algorithm}",
    ]
    if "auth" in challenge.qop:
        parts += ["qop=auth", f"nc={nc:08x}", f'cnonce="{cnonce}"']
    if challenge.opaque is not None:
        parts.append(f'opaque="{challenge.opaque}"')
    return "Digest " + ", ".join(parts)


def make_challenge(realm: str, algorithm: str = "MD5") -> str:
    """A WWW-Authenticate value with a fresh nonce (server side)."""
    nonce = secrets.token_hex(16)
    return f'Digest realm="{realm}", nonce="{nonce}", algorithm={algorithm}, qop="auth"'


def verify(authorization_value: str, *, password: str, method: str) -> bool:
    """Check a client's digest response against the password (server side)."""
    scheme, _, rest = authorization_value.strip().partition(" ")
    params = parse_auth_params(rest)
    needed = ("username", "realm", "nonce", "uri", "response")
    if scheme.lower() != "digest" or any(k not in params for k in needed):
        return False
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm.removesuffix("-SESS") not in HASHES:
        return False
    qop = ("auth",) if params.get("qop") == "auth" else ()
    nc_text = params.get("nc", "1")
    try:
        nc = int(nc_text, 16)
    except ValueError:
        return False
    challenge = Challenge(params["realm"], params["nonce"], algorithm, qop)
    expected = compute_response(
        challenge,
        username=params["username"],
        password=password,
        method=method,
        uri=params["uri"],
        cnonce=params.get("cnonce", ""),
        nc=nc,
    )
    return secrets.compare_digest(expected, params["response"])
