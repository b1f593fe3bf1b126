"""RFC 9421 HTTP Message Signatures: the RFC's own rsa-v1_5-sha256 example, Fedify's shape, refusals."""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fedserver.activitypub import signatures, signatures_rfc9421 as rfc9421
from fedserver.activitypub.signatures import SignatureError
from fedserver.activitypub.signatures_rfc9421 import MessageSignature, Token

KEYS = Path(__file__).resolve().parents[2] / "fixtures" / "keys"
ALICE_PRIVATE = (KEYS / "alice_private.pem").read_text()
ALICE_PUBLIC = (KEYS / "alice_public.pem").read_text()
BOB_PUBLIC = (KEYS / "bob_public.pem").read_text()
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
INBOX = "http://localhost:8001/users/bob/inbox"
KEY_ID = "http://localhost:8002/users/alice#main-key"
BODY = b'{"type":"Like","actor":"http://localhost:8002/users/alice"}'


def _reason(action: Callable[[], object]) -> str:
    with pytest.raises(SignatureError) as caught:
        action()
    return caught.value.reason


def _signed_post(now: datetime = NOW, expires: datetime | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/activity+json"}
    return rfc9421.sign_rfc9421("POST", INBOX, headers, BODY, KEY_ID, ALICE_PRIVATE, now, expires=expires)


def _verify_post(headers: Mapping[str, str], *, body: bytes = BODY, now: datetime = NOW,
                 public_pem: str = ALICE_PUBLIC) -> MessageSignature:
    return rfc9421.verify_rfc9421("POST", INBOX, headers, body, public_pem, now)


def _with_input(headers: Mapping[str, str], signature_input: str) -> dict[str, str]:
    return {**headers, "Signature-Input": signature_input}


# --- RFC 9421 section 4.3: the proxy's rsa-v1_5-sha256 signature next to the client's -----------

RFC_PRIVATE = (KEYS / "rfc9421_test_key_rsa_private.pem").read_text()
RFC_PUBLIC = (KEYS / "rfc9421_test_key_rsa_public.pem").read_text()
RFC_URL = "https://origin.host.internal.example/foo?param=Value&Pet=dog"
RFC_BODY = b'{"hello": "world"}'
RFC_DIGEST = ("sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJw"
              "ew==:")
RFC_CREATED = datetime.fromtimestamp(1618884480, tz=timezone.utc)
RFC_COMPONENTS = ("@method", "@authority", "@path", "content-digest", "content-type", "content-length", "forwarded")
RFC_PROXY_INPUT = ('proxy_sig=("@method" "@authority" "@path" "content-digest" "content-type" "content-length" '
                   '"forwarded");created=1618884480;keyid="test-key-rsa";alg="rsa-v1_5-sha256";expires=1618884540')
RFC_PROXY_SIGNATURE = (
    "S6ZzPXSdAMOPjN/6KXfXWNO/f7V6cHm7BXYUh3YD/fRad4BCaRZxP+JH+8XY1I6+8Cy+CM5g92iHgxtRPz+MjniOaYmdkDcnL9cCpX"
    "JleXsOckpURl49GwiyUpZ10KHgOEe11sx3G2gxI8S0jnxQB+Pu68U9vVcasqOWAEObtNKKZd8tSFu7LB5YAv0RAGhB8tmpv7sFnIm9"
    "y+7X5kXQfi8NMaZaA8i2ZHwpBdg7a6CMfwnnrtflzvZdXAsD3LH2TwevU+/PBPv0B6NMNk93wUs/vfJvye+YuI87HU38lZHowtzn"
    "bLVdp770I6VHR6WfgS9ddzirrswsE1w5o0LV/g==")
RFC_BASE = "\n".join([
    '"@method": POST',
    '"@authority": origin.host.internal.example',
    '"@path": /foo',
    f'"content-digest": {RFC_DIGEST}',
    '"content-type": application/json',
    '"content-length": 18',
    '"forwarded": for=192.0.2.123;host=example.com;proto=https',
    '"@signature-params": ("@method" "@authority" "@path" "content-digest" "content-type" "content-length" '
    '"forwarded");created=1618884480;keyid="test-key-rsa";alg="rsa-v1_5-sha256";expires=1618884540',
])
RFC_HEADERS = {
    "Host": "origin.host.internal.example", "Date": "Tue, 20 Apr 2021 02:07:56 GMT",
    "Content-Type": "application/json", "Content-Length": "18",
    "Forwarded": "for=192.0.2.123;host=example.com;proto=https", "Content-Digest": RFC_DIGEST,
}


def test_rfc_9421_section_4_3_signature_is_reproduced_byte_for_byte() -> None:
    signed = rfc9421.sign_rfc9421("POST", RFC_URL, RFC_HEADERS, RFC_BODY, "test-key-rsa", RFC_PRIVATE, RFC_CREATED,
                                  components=RFC_COMPONENTS, label="proxy_sig",
                                  expires=RFC_CREATED + timedelta(seconds=60))
    assert signed["Signature-Input"] == RFC_PROXY_INPUT
    assert signed["Signature"] == f"proxy_sig=:{RFC_PROXY_SIGNATURE}:"


def test_rfc_9421_section_4_3_signature_base_matches_the_rfc() -> None:
    parsed = rfc9421.parse_message_signature(
        {**RFC_HEADERS, "Signature-Input": RFC_PROXY_INPUT, "Signature": f"proxy_sig=:{RFC_PROXY_SIGNATURE}:"})
    base = rfc9421.signature_base("POST", RFC_URL, {k.lower(): v for k, v in RFC_HEADERS.items()},
                                  parsed.components, parsed.signature_params)
    assert base == RFC_BASE.encode()


def test_rfc_9421_section_4_3_proxy_signature_verifies_beside_the_clients() -> None:
    headers = {
        **RFC_HEADERS,
        "Signature-Input": 'sig1=("@method" "@authority" "@path" "content-digest" "content-type" "content-length")'
                           ';created=1618884475;keyid="test-key-ecc-p256", ' + RFC_PROXY_INPUT,
        "Signature": "sig1=:X5spyd6CFnAG5QnDyHfqoSNICd+BUP4LYMz2Q0JXlb//4Ijpzp+kve2w4NIyqeAuM7jTDX+sNalzA8ESSaHD3A==:, "
                     f"proxy_sig=:{RFC_PROXY_SIGNATURE}:",
    }
    now = datetime.fromtimestamp(1618884500, tz=timezone.utc)
    verified = rfc9421.verify_rfc9421("POST", RFC_URL, headers, RFC_BODY, RFC_PUBLIC, now, label="proxy_sig")
    assert (verified.key_id, verified.alg, verified.expires) == ("test-key-rsa", "rsa-v1_5-sha256", 1618884540)
    # sig1 is the client's ECDSA signature: we never run anything but RSA, so it cannot pass.
    assert "does not match" in _reason(
        lambda: rfc9421.verify_rfc9421("POST", RFC_URL, headers, RFC_BODY, RFC_PUBLIC, now, label="sig1"))


# --- Fedify's shape (packages/fedify/src/sig/http.ts signRequestRfc9421) ---------------------------

def test_request_shaped_like_fedify_verifies() -> None:
    # Fedify orders the parameters alg, keyid, created; the base is written out here by hand.
    content_digest = "sha-256=:" + base64.b64encode(hashlib.sha256(BODY).digest()).decode() + ":"
    params = f'("@method" "@target-uri" "@authority" "host" "date" "content-digest");' \
             f'alg="rsa-v1_5-sha256";keyid="{KEY_ID}";created={int(NOW.timestamp())}'
    base = "\n".join([
        '"@method": POST', f'"@target-uri": {INBOX}', '"@authority": localhost:8001', '"host": localhost:8001',
        '"date": Wed, 01 May 2024 12:00:00 GMT', f'"content-digest": {content_digest}',
        f'"@signature-params": {params}'])
    raw = signatures.rsa_sha256_sign(ALICE_PRIVATE, base.encode())
    headers = {"Host": "localhost:8001", "Date": "Wed, 01 May 2024 12:00:00 GMT", "Content-Digest": content_digest,
               "Content-Type": "application/activity+json", "Signature-Input": f"sig1={params}",
               "Signature": f"sig1=:{base64.b64encode(raw).decode()}:"}
    assert _verify_post(headers).key_id == KEY_ID


# --- our own signatures -------------------------------------------------------------------------

def test_our_post_signature_verifies() -> None:
    headers = _signed_post()
    assert headers["Host"] == "localhost:8001" and headers["Content-Digest"].startswith("sha-256=:")
    verified = _verify_post(headers)
    assert verified.components == ("@method", "@target-uri", "@authority", "host", "date", "content-digest")
    assert (verified.label, verified.created) == ("sig1", int(NOW.timestamp()))


def test_our_get_signature_verifies_with_path_and_query() -> None:
    url = "http://localhost:8001/users/bob/outbox?page=true&min_id=7"
    headers = rfc9421.sign_rfc9421("GET", url, {}, None, KEY_ID, ALICE_PRIVATE, NOW,
                                   components=("@method", "@authority", "@path", "@query", "@scheme",
                                               "@request-target", "date"))
    rfc9421.verify_rfc9421("GET", url, headers, None, ALICE_PUBLIC, NOW)
    assert "does not match" in _reason(lambda: rfc9421.verify_rfc9421(
        "GET", url.replace("min_id=7", "min_id=8"), headers, None, ALICE_PUBLIC, NOW))


def test_query_component_of_a_url_without_query_is_a_lone_question_mark() -> None:
    base = rfc9421.signature_base("GET", "https://moers.test/users/alice", {}, ["@query", "@path"], "()")
    assert base == b'"@query": ?\n"@path": /users/alice\n"@signature-params": ()'


def test_signature_scheme_recognises_rfc9421() -> None:
    assert signatures.signature_scheme(_signed_post()) == "rfc9421"


# --- refusals -------------------------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["hmac-sha256", "rsa-pss-sha512", "ed25519", "ecdsa-p256-sha256", "rsa-v1_5-sha512"])
def test_any_alg_but_rsa_v1_5_sha256_is_refused(alg: str) -> None:
    headers = _signed_post()
    forged = _with_input(headers, headers["Signature-Input"].replace('alg="rsa-v1_5-sha256"', f'alg="{alg}"'))
    assert f"alg {alg!r} is not accepted" in _reason(lambda: _verify_post(forged))


def test_hmac_keyed_with_the_public_key_does_not_verify_without_alg() -> None:
    headers = _signed_post()
    params = headers["Signature-Input"].split("=", 1)[1].replace(';alg="rsa-v1_5-sha256"', "")
    base = rfc9421.signature_base("POST", INBOX, {k.lower(): v for k, v in headers.items()},
                                  rfc9421.parse_message_signature(headers).components, params)
    mac = hmac.new(ALICE_PUBLIC.encode(), base, hashlib.sha256).digest()
    forged = {**headers, "Signature-Input": f"sig1={params}", "Signature": f"sig1=:{base64.b64encode(mac).decode()}:"}
    assert "does not match" in _reason(lambda: _verify_post(forged))


def test_expired_signature_is_refused() -> None:
    # Mastodon: no expires means 5 minutes, plus 1 hour of clock skew.
    _verify_post(_signed_post(), now=NOW + timedelta(minutes=65))
    assert "signature expired" in _reason(lambda: _verify_post(_signed_post(), now=NOW + timedelta(minutes=66)))


def test_signature_past_its_expires_is_refused() -> None:
    headers = _signed_post(expires=NOW + timedelta(minutes=1))
    assert "signature expired" in _reason(lambda: _verify_post(headers, now=NOW + timedelta(minutes=62)))


def test_signature_from_the_future_is_refused() -> None:
    assert "ahead of our clock" in _reason(lambda: _verify_post(_signed_post(), now=NOW - timedelta(minutes=61)))


def test_signature_without_created_is_refused() -> None:
    headers = _signed_post()
    without = _with_input(headers, headers["Signature-Input"].replace(f";created={int(NOW.timestamp())}", ""))
    assert "has no `created` time" in _reason(lambda: _verify_post(without))
    textual = _with_input(headers, headers["Signature-Input"].replace(f"created={int(NOW.timestamp())}", 'created="1"'))
    assert "`created` is not an integer" in _reason(lambda: _verify_post(textual))


def test_tampered_body_is_refused() -> None:
    assert "does not match its Content-Digest (sha-256 differs)" in _reason(
        lambda: _verify_post(_signed_post(), body=BODY + b" "))


def test_wrong_key_is_refused() -> None:
    assert "signed with another key" in _reason(lambda: _verify_post(_signed_post(), public_pem=BOB_PUBLIC))


def test_post_without_covered_content_digest_is_refused() -> None:
    headers = rfc9421.sign_rfc9421("POST", INBOX, {}, BODY, KEY_ID, ALICE_PRIVATE, NOW,
                                   components=("@method", "@target-uri", "date"))
    assert "must cover the Content-Digest" in _reason(lambda: _verify_post(headers))


@pytest.mark.parametrize(("components", "missing"), [
    (("@target-uri", "content-digest"), "@method"),
    (("@method", "@path", "content-digest"), "@target-uri"),
])
def test_signature_must_bind_method_and_target(components: tuple[str, ...], missing: str) -> None:
    headers = rfc9421.sign_rfc9421("POST", INBOX, {}, BODY, KEY_ID, ALICE_PRIVATE, NOW, components=components)
    assert f"must cover {missing}" in _reason(lambda: _verify_post(headers))


def test_content_digest_without_known_algorithm_is_refused() -> None:
    headers = rfc9421.sign_rfc9421("POST", INBOX, {"Content-Digest": "md5=:AAAA:"}, BODY, KEY_ID, ALICE_PRIVATE, NOW)
    assert "offers no sha-256 or sha-512 (offered: md5)" in _reason(lambda: _verify_post(headers))


@pytest.mark.parametrize("component", ['"@query-param";name="page"', '"@status"', '"content-type";sf'])
def test_unsupported_components_are_refused(component: str) -> None:
    headers = _signed_post()
    changed = _with_input(headers, headers["Signature-Input"].replace('"date"', component))
    assert "not supported" in _reason(lambda: _verify_post(changed))


def test_component_listed_twice_is_refused() -> None:
    headers = _signed_post()
    changed = _with_input(headers, headers["Signature-Input"].replace('"date"', '"date" "date"'))
    assert "listed twice" in _reason(lambda: _verify_post(changed))


def test_signed_header_absent_from_the_request_is_refused() -> None:
    headers = _signed_post()
    del headers["Date"]
    assert _reason(lambda: _verify_post(headers)) == "the signed header 'date' is missing from the request"


@pytest.mark.parametrize("value", ["sig1=(", 'sig1=("@method"', "sig1=(@method)", "Sig1=()", "sig1=();created=x y",
                                   "sig1=(), "])
def test_garbled_signature_input_is_refused(value: str) -> None:
    assert "not a structured dictionary" in _reason(lambda: _verify_post(_with_input(_signed_post(), value)))


def test_label_missing_from_either_header_is_refused() -> None:
    headers = _signed_post()
    assert "labelled 'other'" in _reason(lambda: rfc9421.verify_rfc9421(
        "POST", INBOX, headers, BODY, ALICE_PUBLIC, NOW, label="other"))
    renamed = {**headers, "Signature": headers["Signature"].replace("sig1=", "sig2=")}
    assert "no signature bytes labelled 'sig1'" in _reason(lambda: _verify_post(renamed))


def test_missing_signature_input_is_refused() -> None:
    headers = {k: v for k, v in _signed_post().items() if k != "Signature-Input"}
    assert _reason(lambda: _verify_post(headers)) == "the request has no Signature-Input header"


# --- RFC 8941 structured fields ------------------------------------------------------------------

def test_dictionary_parses_rfc_8941_examples() -> None:
    parsed = rfc9421.parse_dictionary('a=?0, b, c; foo=bar, d=(1 "x";p=-2), e=:AQID:, f="a \\"b\\""')
    assert parsed["a"].value is False and parsed["b"].value is True
    assert parsed["c"].value is True and parsed["c"].params == {"foo": Token("bar")}
    assert parsed["d"].value == [(1, {}), ("x", {"p": -2})]
    assert parsed["e"].value == b"\x01\x02\x03" and parsed["f"].value == 'a "b"'


def test_inner_list_serialises_back_canonically() -> None:
    member = rfc9421.parse_dictionary('sig1=( "@method"  "date" );keyid="k";created=5;x;tag=tok')["sig1"]
    assert isinstance(member.value, list)
    assert rfc9421.serialize_inner_list(member.value, member.params) == '("@method" "date");keyid="k";created=5;x;tag=tok'
