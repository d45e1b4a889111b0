"""JWT: Go defaults and claim layout, rotation, fail-closed verification, PyJWT interop both ways, fuzzing."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt as pyjwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plumego.security import (
    ExpiredTokenError,
    InvalidTokenError,
    JWTConfig,
    JWTManager,
    KeyRing,
    MissingSubjectError,
    NotYetValidTokenError,
    SigningKey,
    TokenError,
    UnknownKeyError,
    decode_jwt,
    encode_jwt,
)

ASYMMETRIC = ["EdDSA", "RS256", "ES256"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def b64(data: Any) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def asym_keys() -> dict[str, SigningKey]:
    return {alg: SigningKey.generate(alg, kid=f"k-{alg}") for alg in ASYMMETRIC}


def test_defaults_match_go() -> None:
    cfg = JWTConfig()
    assert (cfg.issuer, cfg.audience, cfg.algorithm) == ("plumego", "plumego-client", "HS256")
    assert (cfg.access_ttl, cfg.refresh_ttl, cfg.rotation_interval, cfg.clock_skew) == (900, 604800, 86400, 5)
    with pytest.raises(ValueError):
        JWTConfig(access_ttl=100, refresh_ttl=10)
    with pytest.raises(ValueError):
        JWTConfig(algorithm="none")


def test_pair_layout_and_verify() -> None:
    clock = FakeClock()
    manager = JWTManager(clock=clock)
    pair = manager.issue_pair("user-1", roles=["admin"], permissions=["orders:read"], version="3")
    assert pair.to_dict()["token_type"] == "Bearer" and pair.expires_in == 900
    header = json.loads(base64.urlsafe_b64decode(pair.access_token.split(".")[0] + "=="))
    assert header == {"alg": "HS256", "typ": "JWT", "kid": manager.keys.active.kid}  # type: ignore[union-attr]
    claims = manager.verify(pair.access_token)
    assert (claims.subject, claims.version) == ("user-1", "3")
    assert (claims.roles, claims.permissions) == (("admin",), ("orders:read",))
    assert claims.raw["identity"] == {"sub": "user-1", "ver": "3"}
    assert claims.expires_at - claims.issued_at == 900
    assert claims.raw["iss"] == "plumego" and claims.raw["aud"] == "plumego-client"
    refresh = manager.verify(pair.refresh_token, "refresh")
    assert refresh.expires_at - refresh.issued_at == 7 * 24 * 3600
    with pytest.raises(InvalidTokenError):
        manager.verify(pair.refresh_token, "access")  # a refresh token is not an access token
    new_pair = manager.refresh(pair.refresh_token)
    assert manager.verify(new_pair.access_token).roles == ("admin",)


def test_time_claims_with_skew() -> None:
    clock = FakeClock()
    manager = JWTManager(clock=clock)
    token = manager.issue("u")
    clock.now += 900 + 5  # exactly at exp + skew: still valid
    manager.verify(token)
    clock.now += 1
    with pytest.raises(ExpiredTokenError):
        manager.verify(token)
    clock.now -= 900 + 6 + 6  # before iat - skew
    with pytest.raises(NotYetValidTokenError):
        manager.verify(token)


def test_rotation_keeps_old_keys_and_auto_rotates() -> None:
    clock = FakeClock()
    manager = JWTManager(config=JWTConfig(access_ttl=2 * 86_400), clock=clock)
    first_kid = manager.keys.active.kid  # type: ignore[union-attr]
    old = manager.issue("u")
    clock.now += 86_400
    new = manager.issue("u")  # active key is a day old: rotated before signing
    assert manager.keys.active.kid != first_kid  # type: ignore[union-attr]
    assert manager.verify(old).key_id == first_kid
    assert manager.verify(new).key_id != first_kid
    manager.keys.prune(older_than=clock.now + 1)
    with pytest.raises(UnknownKeyError):
        manager.verify(old)
    restored = JWTManager(KeyRing.from_export(json.loads(json.dumps(manager.keys.export()))), clock=clock)
    assert restored.verify(new).subject == "u"


@pytest.mark.parametrize("alg", ASYMMETRIC)
def test_asymmetric_manager(alg: str) -> None:
    manager = JWTManager(config=JWTConfig(algorithm=alg))
    token = manager.issue("u", roles=["r"])
    assert manager.verify(token).roles == ("r",)
    active = manager.keys.active
    assert active is not None
    public_only = SigningKey(kid=active.kid, alg=alg, public_pem=active.public_pem)
    assert decode_jwt(token, KeyRing([public_only]), audience="plumego-client")["sub"] == "u"


def _forge(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"sig") -> str:
    return f"{b64(header)}.{b64(payload)}.{b64(signature)}"


def test_fails_closed(asym_keys: dict[str, SigningKey]) -> None:
    clock = FakeClock()
    manager = JWTManager(clock=clock)
    key = manager.keys.active
    assert key is not None
    now = int(clock.now)
    good: dict[str, Any] = {"sub": "u", "token_type": "access", "iss": "plumego", "aud": "plumego-client"}
    good.update(iat=now, nbf=now, exp=now + 60)

    def verify(token: str) -> None:
        manager.verify(token)

    # alg none, with and without a signature
    none_header = {"alg": "none", "typ": "JWT", "kid": key.kid}
    for token in [f"{b64(none_header)}.{b64(good)}.", _forge(none_header, good)]:
        with pytest.raises(InvalidTokenError):
            verify(token)
    # alg/key confusion: HS256 signed with an RSA public key's PEM under the RSA key's kid
    rsa = asym_keys["RS256"]
    manager.keys.add(SigningKey(kid=rsa.kid, alg="RS256", public_pem=rsa.public_pem))
    assert rsa.public_pem is not None
    hs_over_public = SigningKey(kid=rsa.kid, alg="HS256", secret=rsa.public_pem)
    with pytest.raises(InvalidTokenError, match="alg"):
        verify(encode_jwt(good, hs_over_public))
    # header alg differs from the key's alg even though the signature is valid for that alg
    other = SigningKey(kid=key.kid, alg="HS512", secret=(key.secret or b"") * 2)
    with pytest.raises(InvalidTokenError):
        verify(encode_jwt(good, other))
    # unknown / missing kid
    with pytest.raises(UnknownKeyError):
        verify(encode_jwt(good, SigningKey.generate("HS256", kid="nope")))
    with pytest.raises(InvalidTokenError):
        verify(_forge({"alg": "HS256", "typ": "JWT"}, good))
    # missing exp / iat / nbf, bad types
    for claim in ["exp", "iat", "nbf"]:
        with pytest.raises(InvalidTokenError):
            verify(encode_jwt({k: v for k, v in good.items() if k != claim}, key))
    with pytest.raises(InvalidTokenError):
        verify(encode_jwt({**good, "exp": True}, key))
    with pytest.raises(InvalidTokenError):
        verify(encode_jwt({**good, "exp": "9999999999"}, key))
    with pytest.raises(InvalidTokenError):
        verify(encode_jwt({**good, "exp": 10**400}, key))  # beyond float range
    # issuer, audience, not-before, subject, payload kid, typ, crit
    bad_claims: list[dict[str, Any]] = [{"iss": "evil"}, {"aud": "other"}, {"aud": ["x", "y"]}]
    for bad in bad_claims:
        with pytest.raises(InvalidTokenError):
            verify(encode_jwt({**good, **bad}, key))
    verify(encode_jwt({**good, "aud": ["x", "plumego-client"]}, key))
    with pytest.raises(NotYetValidTokenError):
        verify(encode_jwt({**good, "nbf": now + 60}, key))
    with pytest.raises(MissingSubjectError):
        verify(encode_jwt({k: v for k, v in good.items() if k != "sub"}, key))
    with pytest.raises(InvalidTokenError):
        verify(encode_jwt({**good, "kid": "another"}, key))
    with pytest.raises(InvalidTokenError):
        verify(encode_jwt(good, key, headers={"typ": "at+jwt"}))
    with pytest.raises(InvalidTokenError):
        verify(encode_jwt(good, key, headers={"crit": ["exp"]}))
    # tampered payload with the original signature
    token = encode_jwt(good, key)
    h, _, s = token.split(".")
    with pytest.raises(InvalidTokenError):
        verify(f"{h}.{b64({**good, 'sub': 'admin'})}.{s}")
    # duplicate JSON members are refused rather than resolved
    dup = b'{"sub":"u","sub":"admin"}'
    with pytest.raises(InvalidTokenError):
        verify(encode_jwt(good, key).split(".")[0] + "." + b64(dup) + ".x")
    # oversized
    with pytest.raises(InvalidTokenError):
        verify("a" * 20_000)


def test_hmac_keys_must_be_long_enough_and_alg_key_types_must_match(asym_keys: dict[str, SigningKey]) -> None:
    with pytest.raises(ValueError):
        SigningKey(kid="k", alg="HS256", secret=b"short")
    with pytest.raises(ValueError):
        SigningKey(kid="k", alg="ES256", private_pem=asym_keys["RS256"].private_pem)
    with pytest.raises(ValueError):
        SigningKey(kid="k", alg="none", secret=b"x" * 32)
    assert "secret" not in repr(SigningKey.generate("HS256"))


# -- PyJWT interop --------------------------------------------------------------------------------------------------


def test_pyjwt_verifies_our_hmac_tokens() -> None:
    manager = JWTManager()
    key = manager.keys.active
    assert key is not None and key.secret is not None
    token = manager.issue("user-9", roles=["a"])
    claims = pyjwt.decode(token, key.secret, algorithms=["HS256"], audience="plumego-client", issuer="plumego")
    assert claims["sub"] == "user-9" and claims["authorization"] == {"roles": ["a"]}
    assert pyjwt.get_unverified_header(token)["kid"] == key.kid


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512", *ASYMMETRIC])
def test_interop_both_ways(alg: str, asym_keys: dict[str, SigningKey]) -> None:
    key = asym_keys[alg] if alg in asym_keys else SigningKey.generate(alg, kid=f"k-{alg}")
    verify_with: Any = key.secret if key.secret is not None else key.public_pem
    sign_with: Any = key.secret if key.secret is not None else key.private_pem
    payload = {"sub": "s", "iat": 1_700_000_000, "exp": 1_700_000_600, "aud": "plumego-client", "iss": "plumego"}
    ours = encode_jwt(payload, key)
    decoded = pyjwt.decode(
        ours,
        verify_with,
        algorithms=[alg],
        audience="plumego-client",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert decoded["sub"] == "s"
    theirs = pyjwt.encode(payload, sign_with, algorithm=alg, headers={"kid": key.kid})
    ring = KeyRing([key])
    assert decode_jwt(theirs, ring, issuer="plumego", audience="plumego-client", now=1_700_000_100) == payload
    with pytest.raises(ExpiredTokenError):
        decode_jwt(theirs, ring, now=1_700_000_700)


def test_pyjwt_token_through_manager() -> None:
    clock = FakeClock()
    manager = JWTManager(clock=clock)
    key = manager.keys.active
    assert key is not None and key.secret is not None
    now = int(clock.now)
    payload: dict[str, Any] = {"sub": "ext", "token_type": "access", "iss": "plumego", "aud": "plumego-client"}
    payload.update(iat=now, nbf=now, exp=now + 60)
    token = pyjwt.encode(payload, key.secret, algorithm="HS256", headers={"kid": key.kid})
    assert manager.verify(token).subject == "ext"
    no_kid = pyjwt.encode(payload, key.secret, algorithm="HS256")
    with pytest.raises(InvalidTokenError):
        manager.verify(no_kid)


# -- fuzzing ----------------------------------------------------------------------------------------------------------

_FUZZ_CLOCK = FakeClock()
_FUZZ_MANAGER = JWTManager(clock=_FUZZ_CLOCK)
_VALID = _FUZZ_MANAGER.issue("fuzz")
_SEGMENT = st.one_of(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.", max_size=60),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["alg", "kid", "typ", "exp", "iat", "nbf", "sub", "aud", "crit", "x"]), inner, max_size=6
        ),
        max_leaves=12,
    ).map(lambda v: b64(json.dumps(v).encode())),
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200), st.tuples(_SEGMENT, _SEGMENT, _SEGMENT).map(".".join)))
def test_fuzzed_tokens_raise_only_token_error(token: Any) -> None:
    try:
        _FUZZ_MANAGER.verify(token)
    except TokenError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(_VALID) - 1), st.characters(codec="ascii"))
def test_mutated_valid_token_rejected(position: int, char: str) -> None:
    mutated = _VALID[:position] + char + _VALID[position + 1:]
    try:
        claims = _FUZZ_MANAGER.verify(mutated)
    except TokenError:
        return
    assert claims.subject == "fuzz"  # only an identical-meaning token may pass


def test_deeply_nested_json_is_a_token_error() -> None:
    key = _FUZZ_MANAGER.keys.active
    assert key is not None
    header = b64({"alg": "HS256", "typ": "JWT", "kid": key.kid})
    deep = b64(b"[" * 5000 + b"]" * 5000)
    with pytest.raises(TokenError):
        decode_jwt(f"{header}.{deep}.{b64(b'x')}", KeyRing([key]), max_token_bytes=10**6)


_NO_CRYPTO = """
import sys
sys.modules["cryptography"] = None  # simulate an install without the 'jwt' extra
from plumego.security import CryptoBackendMissingError, JWTManager, SigningKey
manager = JWTManager()
assert manager.verify(manager.issue("u")).subject == "u"  # HMAC needs only the standard library
try:
    SigningKey.generate("EdDSA")
except CryptoBackendMissingError as exc:
    assert "plumego[jwt]" in str(exc)
    print("clear error")
"""


def test_hmac_works_and_asymmetric_fails_clearly_without_cryptography() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run([sys.executable, "-c", _NO_CRYPTO], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "clear error"
