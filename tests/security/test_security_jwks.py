"""JWT against real tokens: the header kid, configurable required claims and typ, verified claims for handlers,
JWK/JWKS loading (dict, file, HTTPS URL served by a local TLS server) with caching, rate-limited refresh on an
unknown kid and stale-while-error, and verify-only managers that never invent a signing key. Tokens are made by
PyJWT, as an identity provider would make them."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm, RSAAlgorithm
from selfsigned import make_cert

from plumego.contract import Request
from plumego.core import App
from plumego.middleware import BearerJWTAuthenticator, authenticate, authorize, principal_from_scope
from plumego.security import (
    InvalidTokenError,
    JWKError,
    JWTConfig,
    JWTManager,
    KeyRing,
    NoSigningKeyError,
    RemoteJWKS,
    SigningKey,
    UnknownKeyError,
    jwk_thumbprint,
    jwks_document,
    key_from_jwk,
    key_to_jwk,
    keys_from_jwks,
    load_jwks,
)

NOW = 1_700_000_000
ISSUER = "https://idp.example"
AUDIENCE = "orders-api"


class FakeClock:
    def __init__(self, now: float = float(NOW)) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def standard_claims(**extra: Any) -> dict[str, Any]:
    """What an OpenID Connect provider puts in an access token: no nbf, no plumego token_type."""
    claims: dict[str, Any] = {"sub": "user-1", "iss": ISSUER, "aud": AUDIENCE, "iat": NOW, "exp": NOW + 300}
    claims.update(extra)
    return claims


@dataclass
class ProviderKey:
    kid: str
    alg: str
    private: Any
    public_jwk: dict[str, Any]

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        return pyjwt.encode(claims, self.private, algorithm=self.alg, headers={"kid": self.kid, **headers})


def provider_key(alg: str, kid: str) -> ProviderKey:
    private: Any
    if alg == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    elif alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
        jwk = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
    else:
        private = b"s" * 64
        jwk = json.loads(HMACAlgorithm.to_jwk(private))
        jwk["alg"] = alg
    jwk["kid"] = kid
    return ProviderKey(kid, alg, private, jwk)


@pytest.fixture(scope="module")
def rsa_key() -> ProviderKey:
    return provider_key("RS256", "rsa-1")


# -- header kid, required claims, typ ------------------------------------------------------------------------------


def test_key_id_comes_from_the_header_kid() -> None:
    key = SigningKey.generate("HS256", kid="hdr-kid")
    manager = JWTManager(KeyRing([key], active="hdr-kid"), JWTConfig(issuer="", audience=""), clock=FakeClock())
    token = pyjwt.encode({"sub": "u", "iat": NOW, "nbf": NOW, "exp": NOW + 60, "token_type": "access"},
                         key.secret, algorithm="HS256", headers={"kid": "hdr-kid"})
    claims = manager.verify(token)
    assert claims.key_id == "hdr-kid"  # the payload has no kid claim at all
    assert claims.header["kid"] == "hdr-kid" and claims.header["alg"] == "HS256"


def test_standard_token_needs_the_relaxed_config_and_the_default_stays_go() -> None:
    key = provider_key("RS256", "k1")
    ring = load_jwks({"keys": [key.public_jwk]})
    token = key.sign(standard_claims())
    go_default = JWTManager(ring, JWTConfig(issuer=ISSUER, audience=AUDIENCE), clock=FakeClock())
    with pytest.raises(InvalidTokenError, match="nbf"):
        go_default.verify(token)
    relaxed = JWTConfig(issuer=ISSUER, audience=AUDIENCE, required_claims=("exp", "iat"), require_token_type=False)
    assert JWTManager(ring, relaxed, clock=FakeClock()).verify(token).subject == "user-1"
    assert JWTManager(ring, JWTConfig.for_identity_provider(ISSUER, AUDIENCE), clock=FakeClock()).verify(token)
    with pytest.raises(ValueError, match="exp"):
        JWTConfig(required_claims=("iat",))


def test_accepted_typ_values_are_configuration() -> None:
    key = provider_key("ES256", "k1")
    ring = load_jwks({"keys": [key.public_jwk]})
    at_jwt = key.sign(standard_claims(), typ="at+jwt")
    default = JWTManager(ring, JWTConfig(issuer=ISSUER, audience=AUDIENCE, required_claims=("exp", "iat"),
                                         require_token_type=False), clock=FakeClock())
    with pytest.raises(InvalidTokenError, match="typ"):
        default.verify(at_jwt)
    idp = JWTManager(ring, JWTConfig.for_identity_provider(ISSUER, AUDIENCE), clock=FakeClock())
    assert idp.verify(at_jwt).subject == "user-1"
    assert idp.verify(key.sign(standard_claims(), typ="application/AT+JWT")).subject == "user-1"  # RFC 7515 4.1.9
    with pytest.raises(InvalidTokenError, match="typ"):
        idp.verify(key.sign(standard_claims(), typ="dpop+jwt"))


def test_a_refresh_token_is_still_not_an_access_token_when_token_type_is_optional() -> None:
    key = provider_key("EdDSA", "k1")
    idp = JWTManager(load_jwks(key.public_jwk), JWTConfig.for_identity_provider(ISSUER, AUDIENCE), clock=FakeClock())
    with pytest.raises(InvalidTokenError, match="access"):
        idp.verify(key.sign(standard_claims(token_type="refresh")))


def test_kid_is_optional_only_with_a_single_candidate_key() -> None:
    one = SigningKey.generate("HS256", kid="only")
    payload = standard_claims(nbf=NOW, token_type="access")
    config = JWTConfig(issuer=ISSUER, audience=AUDIENCE, require_kid=False)
    no_kid = pyjwt.encode(payload, one.secret, algorithm="HS256")
    claims = JWTManager(KeyRing([one], active="only"), config, clock=FakeClock()).verify(no_kid)
    assert claims.key_id == "only"
    with pytest.raises(InvalidTokenError, match="kid"):  # Go's default: kid required
        JWTManager(KeyRing([one], active="only"), JWTConfig(issuer=ISSUER, audience=AUDIENCE),
                   clock=FakeClock()).verify(no_kid)
    two = KeyRing([one, SigningKey.generate("HS256", kid="other")], active="only")
    with pytest.raises(InvalidTokenError, match="kid"):
        JWTManager(two, config, clock=FakeClock()).verify(no_kid)


# -- verified claims reach handlers ---------------------------------------------------------------------------------


async def whoami(request: Request) -> dict[str, Any]:
    principal = principal_from_scope(request.scope)
    assert principal is not None
    return {
        "subject": principal.subject,
        "scopes": list(principal.scopes),
        "roles": list(principal.roles),
        "key_id": principal.claims["key_id"],
        "email": principal.token_claims.get("email"),
        "name": principal.token_claims.get("name"),
    }


def idp_app(manager: JWTManager) -> App:
    app = App()
    app.use(authenticate(BearerJWTAuthenticator(manager), realm="orders"))
    app.get("/me", whoami)
    app.get("/orders", whoami, middleware=[authorize(any_scopes=["orders:read"])])
    return app


async def get(app: App, path: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.get(path, headers={"Authorization": f"Bearer {token}"})


async def test_handlers_see_every_verified_claim_and_oauth_scopes(rsa_key: ProviderKey) -> None:
    manager = JWTManager(load_jwks({"keys": [rsa_key.public_jwk]}),
                         JWTConfig.for_identity_provider(ISSUER, AUDIENCE), clock=FakeClock())
    token = rsa_key.sign(standard_claims(scope="openid orders:read", email="a@example.com", name="Ada",
                                         roles=["buyer"]))
    res = await get(idp_app(manager), "/orders", token)
    assert res.status_code == 200, res.text
    assert res.json() == {"subject": "user-1", "scopes": ["openid", "orders:read"], "roles": ["buyer"],
                          "key_id": "rsa-1", "email": "a@example.com", "name": "Ada"}
    denied = await get(idp_app(manager), "/orders", rsa_key.sign(standard_claims(scope="openid")))
    assert denied.status_code == 403


# -- JWK / JWKS -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA", "HS256", "HS512"])
def test_jwks_from_pyjwt_verify_pyjwt_tokens(alg: str) -> None:
    key = provider_key(alg, f"k-{alg}")
    ring = load_jwks({"keys": [key.public_jwk]})
    loaded = ring.get(key.kid)
    assert loaded is not None and loaded.alg == alg and not (loaded.can_sign and alg not in ("HS256", "HS512"))
    manager = JWTManager(ring, JWTConfig.for_identity_provider(ISSUER, AUDIENCE), clock=FakeClock())
    assert manager.verify(key.sign(standard_claims())).subject == "user-1"


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_our_public_jwk_verifies_our_tokens_in_pyjwt(alg: str) -> None:
    issuer = JWTManager(config=JWTConfig(algorithm=alg))
    active = issuer.keys.active
    assert active is not None
    document = jwks_document(issuer.keys)
    assert [jwk["kid"] for jwk in document["keys"]] == [active.kid]
    assert "d" not in document["keys"][0]
    token = issuer.issue("svc")
    verified = pyjwt.decode(token, pyjwt.PyJWK(document["keys"][0]).key, algorithms=[alg], audience="plumego-client")
    assert verified["sub"] == "svc"
    assert key_from_jwk(key_to_jwk(active)).public_pem == active.public_pem  # round trip
    with pytest.raises(JWKError):
        key_to_jwk(SigningKey.generate("HS256"))


def test_jwks_skips_keys_it_cannot_use_and_refuses_bad_ones(tmp_path: Path) -> None:
    good = provider_key("ES256", "good").public_jwk
    enc = {**provider_key("RS256", "enc").public_jwk, "use": "enc"}
    ps256 = {**provider_key("RS256", "ps").public_jwk, "alg": "PS256"}
    p384 = {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA", "kid": "p384"}
    weak = json.loads(RSAAlgorithm.to_jwk(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()))
    document = {"keys": [good, enc, ps256, p384, {**weak, "kid": "weak"}]}
    assert [key.kid for key in keys_from_jwks(document)] == ["good"]
    with pytest.raises(JWKError):
        keys_from_jwks(document, strict=True)
    with pytest.raises(JWKError, match="duplicate"):
        keys_from_jwks({"keys": [good, good]})
    with pytest.raises(JWKError):
        key_from_jwk({"kty": "EC", "crv": "P-256", "x": good["x"], "y": good["x"], "kid": "off-curve"})
    with pytest.raises(JWKError, match="alg"):
        key_from_jwk({"kty": "oct", "k": "c" * 43})  # an oct key must say which HMAC
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(document))
    assert load_jwks(path).get("good") is not None
    assert load_jwks(str(path)).get("good") is not None
    with pytest.raises(JWKError, match="no usable"):
        load_jwks({"keys": [enc]})


def test_kid_defaults_to_the_rfc7638_thumbprint() -> None:
    # RFC 7638 section 3.1's example key and thumbprint.
    jwk = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWK"
            "RXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMic"
            "AtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3"
            "XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    assert key_from_jwk(jwk).kid == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


# -- verify-only managers -------------------------------------------------------------------------------------------


def test_a_verify_only_ring_never_gets_a_generated_signing_key(rsa_key: ProviderKey) -> None:
    ring = load_jwks({"keys": [rsa_key.public_jwk]})
    manager = JWTManager(ring, JWTConfig.for_identity_provider(ISSUER, AUDIENCE), clock=FakeClock())
    assert [key.kid for key in manager.keys.keys()] == ["rsa-1"] and manager.keys.active is None
    with pytest.raises(NoSigningKeyError):
        manager.issue("someone")
    assert [key.kid for key in manager.keys.keys()] == ["rsa-1"]  # still nothing generated
    assert JWTManager().keys.active is not None  # no keys at all: a first key, as before


# -- JWKS over HTTPS ------------------------------------------------------------------------------------------------


@dataclass
class Provider:
    """A local identity provider's JWKS endpoint: HTTPS on loopback with a self-signed certificate."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    redirect_to: str | None = None
    requests: int = 0
    url: str = ""
    ca: ssl.SSLContext | None = None

    def client_context(self) -> ssl.SSLContext:
        assert self.ca is not None
        return self.ca


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[Provider]:
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            state.requests += 1
            if state.redirect_to is not None:
                self.send_response(302)
                self.send_header("Location", state.redirect_to)
                self.end_headers()
                return
            body = json.dumps({"keys": state.keys}).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    files = make_cert(tmp_path / "tls")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(files.cert, files.key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"https://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    state.ca = ssl.create_default_context(cafile=str(files.cert))
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def remote(provider: Provider, clock: FakeClock, **options: Any) -> RemoteJWKS:
    return RemoteJWKS(provider.url, ssl_context=provider.client_context(), clock=clock, **options)


async def test_tokens_verify_against_a_jwks_url_through_the_middleware(provider: Provider) -> None:
    key = provider_key("RS256", "idp-1")
    provider.keys = [key.public_jwk]
    clock = FakeClock()
    jwks = remote(provider, clock)
    manager = JWTManager(config=JWTConfig.for_identity_provider(ISSUER, AUDIENCE), key_source=jwks,
                         clock=FakeClock())
    assert manager.keys.keys() == []  # verify-only: nothing generated
    app = idp_app(manager)
    token = key.sign(standard_claims(scope="orders:read"))
    first = await get(app, "/orders", token)
    second = await get(app, "/orders", token)
    assert first.status_code == second.status_code == 200, first.text
    assert provider.requests == 1  # cached
    assert jwks.status().kids == ("idp-1",) and jwks.status().fresh


async def test_the_fetch_runs_off_the_event_loop(provider: Provider) -> None:
    key = provider_key("ES256", "idp-1")
    provider.keys = [key.public_jwk]
    threads: list[int] = []

    class Recording(RemoteJWKS):
        def refresh(self) -> None:
            threads.append(threading.get_ident())
            super().refresh()

    jwks = Recording(provider.url, ssl_context=provider.client_context(), clock=FakeClock())
    manager = JWTManager(config=JWTConfig.for_identity_provider(ISSUER, AUDIENCE), key_source=jwks,
                         clock=FakeClock())
    claims = await manager.averify(key.sign(standard_claims()))
    assert claims.key_id == "idp-1"
    assert threads and threading.get_ident() not in threads  # refreshed in a worker thread, not on the loop


async def test_concurrent_requests_share_one_refresh(provider: Provider) -> None:
    key = provider_key("RS256", "idp-1")
    provider.keys = [key.public_jwk]
    calls: list[int] = []

    class Counting(RemoteJWKS):
        def refresh(self) -> None:
            calls.append(threading.get_ident())
            super().refresh()

    jwks = Counting(provider.url, ssl_context=provider.client_context(), clock=FakeClock())
    manager = JWTManager(config=JWTConfig.for_identity_provider(ISSUER, AUDIENCE), key_source=jwks,
                         clock=FakeClock())
    token = key.sign(standard_claims())
    results = await asyncio.gather(*(manager.averify(token) for _ in range(20)))
    assert {claims.key_id for claims in results} == {"idp-1"}
    assert len(calls) == 1 and provider.requests == 1  # one worker thread, one fetch, for 20 requests


def test_unknown_kid_refreshes_once_per_interval(provider: Provider) -> None:
    old, new = provider_key("RS256", "old"), provider_key("RS256", "new")
    provider.keys = [old.public_jwk]
    clock = FakeClock()
    jwks = remote(provider, clock, min_refresh_interval=30.0)
    manager = JWTManager(config=JWTConfig.for_identity_provider(ISSUER, AUDIENCE), key_source=jwks,
                         clock=FakeClock())
    assert manager.verify(old.sign(standard_claims())).key_id == "old"
    assert provider.requests == 1
    # The provider rotates; a token with the new kid arrives within the rate-limit window: no fetch yet.
    provider.keys = [old.public_jwk, new.public_jwk]
    clock.now += 10
    with pytest.raises(UnknownKeyError):
        manager.verify(new.sign(standard_claims()))
    for n in range(50):  # a flood of made-up kids cannot make us hammer the provider
        with pytest.raises(UnknownKeyError):
            manager.verify(old.sign(standard_claims(), kid=f"made-up-{n}"))
    assert provider.requests == 1
    clock.now += 21  # past the interval: the unknown kid triggers one refresh
    assert manager.verify(new.sign(standard_claims())).key_id == "new"
    assert provider.requests == 2


def test_stale_while_error_then_fail_closed(provider: Provider) -> None:
    key = provider_key("EdDSA", "k")
    provider.keys = [key.public_jwk]
    clock = FakeClock()
    jwks = remote(provider, clock, cache_ttl=300.0, max_stale=3600.0, min_refresh_interval=30.0)
    manager = JWTManager(config=JWTConfig.for_identity_provider(ISSUER, AUDIENCE), key_source=jwks,
                         clock=FakeClock())
    token = key.sign(standard_claims())
    assert manager.verify(token).subject == "user-1"
    provider.status = 503  # the provider goes down
    clock.now += 400  # cache expired: a refresh is tried, fails, and the stale keys keep working
    assert manager.verify(token).subject == "user-1"
    status = jwks.status()
    assert provider.requests == 2 and not status.fresh and status.usable and "503" in (status.last_error or "")
    clock.now += 3600  # beyond cache_ttl + max_stale: no key is trusted any more
    with pytest.raises(UnknownKeyError):
        manager.verify(token)
    provider.status = 200  # the provider is back: the next refresh restores service
    clock.now += 31
    assert manager.verify(token).subject == "user-1"
    assert jwks.status().last_error is None


def test_url_and_tls_rules(provider: Provider) -> None:
    with pytest.raises(ValueError, match="https"):
        RemoteJWKS("http://idp.example/jwks.json")
    provider.keys = [provider_key("ES256", "k").public_jwk]
    untrusted = RemoteJWKS(provider.url, clock=FakeClock())  # default CAs: the self-signed cert is refused
    untrusted.refresh()
    assert untrusted.keys() == [] and "certificate" in (untrusted.status().last_error or "").lower()
    downgraded = remote(provider, FakeClock())
    provider.redirect_to = "http://127.0.0.1:9/jwks.json"
    downgraded.refresh()
    assert downgraded.keys() == [] and "non-https" in (downgraded.status().last_error or "")
    provider.redirect_to = None
    oversized = remote(provider, FakeClock(), max_bytes=10)
    oversized.refresh()
    assert oversized.keys() == [] and "larger" in (oversized.status().last_error or "")


def test_a_ring_of_signing_keys_without_an_active_one_uses_the_newest() -> None:
    old = SigningKey.generate("HS256", kid="old", created_at=NOW - 100)
    new = SigningKey.generate("HS256", kid="new", created_at=NOW - 10)
    manager = JWTManager(KeyRing([new, old]), clock=FakeClock())
    assert manager.keys.active is new and len(manager.keys.keys()) == 2  # nothing generated
    assert manager.verify(manager.issue("u")).key_id == "new"
