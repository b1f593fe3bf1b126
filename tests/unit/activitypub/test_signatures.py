"""draft-cavage HTTP Signatures: cross-checked with httpsig 1.3.0 and with Mastodon's own spec vectors."""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from httpsig.sign import HeaderSigner
from httpsig.verify import HeaderVerifier

from fedserver.activitypub import signatures
from fedserver.activitypub.keys import load_private_key
from fedserver.activitypub.signatures import SignatureError, SignatureParams

KEYS = Path(__file__).resolve().parents[2] / "fixtures" / "keys"


def _pem(name: str) -> str:
    return (KEYS / f"{name}.pem").read_text()


def _public_of(private_pem: str) -> str:
    return load_private_key(private_pem).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


ALICE_PRIVATE, ALICE_PUBLIC, BOB_PUBLIC = _pem("alice_private"), _pem("alice_public"), _pem("bob_public")
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
INBOX = "http://localhost:8001/users/bob/inbox"
INBOX_PATH = "/users/bob/inbox"
KEY_ID = "http://localhost:8002/users/alice#main-key"
BODY = b'{"type":"Follow","actor":"http://localhost:8002/users/alice"}'
POST_HEADERS = ["(request-target)", "host", "date", "digest", "content-type"]


def _signed_post(now: datetime = NOW, body: bytes = BODY) -> dict[str, str]:
    return signatures.sign_post(INBOX, body, KEY_ID, ALICE_PRIVATE, now)


def _verify_post(headers: Mapping[str, str], *, body: bytes = BODY, now: datetime = NOW,
                 public_pem: str = ALICE_PUBLIC, method: str = "POST") -> SignatureParams:
    return signatures.verify_request(method, INBOX_PATH, headers, body, public_pem, now)


def _reason(action: Callable[[], object]) -> str:
    with pytest.raises(SignatureError) as caught:
        action()
    return caught.value.reason


def _with_signature(headers: Mapping[str, str], names: list[str], **params: str) -> dict[str, str]:
    """Sign `headers` by hand (our RSA, any header list and extra parameters) for edge cases."""
    text = "\n".join(f"(request-target): post {INBOX_PATH}" if name == "(request-target)"
                     else f"{name}: {params[name[1:-1]]}" if name in ("(created)", "(expires)")
                     else f"{name}: {headers[name.title()]}" for name in names)
    raw = base64.b64encode(signatures.rsa_sha256_sign(ALICE_PRIVATE, text.encode())).decode()
    extra = "".join(f",{key}={value}" for key, value in params.items() if key not in ("algorithm",))
    algorithm = params.get("algorithm", "rsa-sha256")
    return {**headers, "Signature": f'keyId="{KEY_ID}",algorithm="{algorithm}",headers="{" ".join(names)}"'
                                    f'{extra},signature="{raw}"'}


# --- what we send ---------------------------------------------------------------------------------

def test_digest_is_sha256_in_base64_like_mastodon() -> None:
    # Mastodon spec/requests/signature_verification_spec.rb: digest_value('Hello world').
    assert signatures.digest(b"Hello world") == "SHA-256=ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="


def test_sign_post_sets_every_header_and_keeps_the_port_in_host() -> None:
    headers = _signed_post()
    assert list(headers) == ["Host", "Date", "Digest", "Content-Type", "Signature"]
    assert headers["Host"] == "localhost:8001"  # two cities on one machine differ only by port
    assert headers["Date"] == "Wed, 01 May 2024 12:00:00 GMT"
    assert headers["Content-Type"] == "application/activity+json"
    params = signatures.parse_signature_header(headers["Signature"])
    assert (params.key_id, params.algorithm) == (KEY_ID, "rsa-sha256")
    assert params.headers == ("(request-target)", "host", "date", "digest", "content-type")


def test_host_header_drops_only_the_default_port() -> None:
    assert signatures.authority("https://Moers.Test:443/inbox") == "moers.test"
    assert signatures.authority("http://moers.test:80/inbox") == "moers.test"
    assert signatures.authority("https://moers.test:8443/inbox") == "moers.test:8443"
    assert signatures.authority("http://[::1]:8001/inbox") == "[::1]:8001"
    with pytest.raises(ValueError):
        signatures.authority("/relative/path")


def test_sign_get_covers_request_target_host_and_date() -> None:
    headers = signatures.sign_get("http://localhost:8001/users/bob?page=1", KEY_ID, ALICE_PRIVATE, NOW)
    assert headers["Accept"] == "application/activity+json"
    assert signatures.parse_signature_header(headers["Signature"]).headers == ("(request-target)", "host", "date")
    assert signatures.verify_request("GET", "/users/bob?page=1", headers, None, ALICE_PUBLIC, NOW).key_id == KEY_ID


def test_signing_with_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        signatures.sign_post(INBOX, BODY, KEY_ID, ALICE_PRIVATE, datetime(2024, 5, 1, 12, 0))


# --- httpsig 1.3.0 as the independent implementation --------------------------------------------

def test_our_post_verifies_under_httpsig() -> None:
    headers = _signed_post()
    verifier = HeaderVerifier(headers, ALICE_PUBLIC, required_headers=POST_HEADERS, method="POST",
                              path=INBOX_PATH, sign_header="signature")
    assert verifier.verify() is True


def test_our_get_verifies_under_httpsig() -> None:
    headers = signatures.sign_get("http://localhost:8001/users/bob/outbox?page=true", KEY_ID, ALICE_PRIVATE, NOW)
    verifier = HeaderVerifier(headers, ALICE_PUBLIC, required_headers=["(request-target)", "host", "date"],
                              method="GET", path="/users/bob/outbox?page=true", sign_header="signature")
    assert verifier.verify() is True


def test_request_signed_by_httpsig_verifies_under_ours() -> None:
    headers = {"Host": "localhost:8001", "Date": "Wed, 01 May 2024 11:59:30 GMT",
               "Digest": signatures.digest(BODY), "Content-Type": "application/activity+json"}
    signer = HeaderSigner(KEY_ID, ALICE_PRIVATE, algorithm="rsa-sha256", headers=POST_HEADERS, sign_header="signature")
    signed = dict(signer.sign(headers, method="POST", path=INBOX_PATH))
    assert _verify_post(signed).key_id == KEY_ID


def test_hmac_forgery_keyed_with_the_public_key_is_refused() -> None:
    # httpsig 1.3.0 takes the algorithm from the header: an HMAC keyed with the (public!) PEM passes.
    headers = {"Host": "localhost:8001", "Date": "Wed, 01 May 2024 12:00:00 GMT", "Digest": signatures.digest(BODY),
               "Content-Type": "application/activity+json"}
    forger = HeaderSigner(KEY_ID, ALICE_PUBLIC, algorithm="hmac-sha256", headers=POST_HEADERS, sign_header="signature")
    forged = dict(forger.sign(headers, method="POST", path=INBOX_PATH))
    assert HeaderVerifier(forged, ALICE_PUBLIC, required_headers=POST_HEADERS, method="POST", path=INBOX_PATH,
                          sign_header="signature").verify() is True  # the known httpsig weakness
    assert "'hmac-sha256' is not accepted" in _reason(lambda: _verify_post(forged))


def test_hmac_forgery_relabelled_rsa_sha256_does_not_verify() -> None:
    text = "\n".join([f"(request-target): post {INBOX_PATH}", "host: localhost:8001"]).encode()
    mac = base64.b64encode(hmac.new(ALICE_PUBLIC.encode(), text, hashlib.sha256).digest()).decode()
    headers = {**_signed_post()}
    headers["Signature"] = headers["Signature"].rsplit("signature=", 1)[0] + f'signature="{mac}"'
    assert "does not match" in _reason(lambda: _verify_post(headers))


# --- Mastodon's spec/requests/signature_verification_spec.rb, travel_to 2023-12-20T10:00:00Z -----

MASTODON_KEY = _pem("mastodon_spec_private")
MASTODON_PUBLIC = _public_of(MASTODON_KEY)
MASTODON_NOW = datetime(2023, 12, 20, 10, 0, tzinfo=timezone.utc)
MASTODON_KEY_ID = "https://remote.domain/users/bob#main-key"
MASTODON_DATE = "Wed, 20 Dec 2023 10:00:00 GMT"
MASTODON_DIGEST = "SHA-256=ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="
GET_SIGNATURE = (
    "Z8ilar3J7bOwqZkMp7sL8sRs4B1FT+UorbmvWoE+A5UeoOJ3KBcUmbsh+k3wQwbP5gMNUrra9rEWabpasZGphLsbDxfbsWL3Cf0Pl"
    "lAc7c1c7AFEwnewtExI83/qqgEkfWc2z7UDutXc2NfgAx89Ox8DXU/fA2GG0jILjB6UpFyNugkY9rg6oI31UnvfVi3R7sr3/x8Ea"
    "3I9thPvqI2byF6cojknSpDAwYzeKdngX3TAQEGzFHz3SDWwyp3jeMWfwvVVbM38FxhvAnSumw7YwWW4L7M7h4M68isLimoT3yfCn"
    "2ucBVL5Dz8koBpYf/40w7QidClAwCafZQFC29yDOg==")
GET_QUERY_SIGNATURE = (
    "SDMa4r/DQYMXYxVgYO2yEqGWWUXugKjVuz0I8dniQAk+aunzBaF2aPu+4grBfawAshlx1Xytl8lhb0H2MllEz16/tKY7rUrb70MK0"
    "w8ohXgpb0qs3YvQgdj4X24L1x2MnkFfKHR/J+7TBlnivq0HZqXm8EIkPWLv+eQxu8fbowLwHIVvRd/3t6FzvcfsE0UZKkoMEX025"
    "42MhwSif6cu7Ec/clsY9qgKahb9JVGOGS1op9Lvg/9y1mc8KCgD83U5IxVygYeYXaVQ6gixA9NgZiTCwEWzHM5ELm7w5hpdLFYxY"
    "OHg/3G3fiqJzpzNQAcCD4S4JxfE7hMI0IzVlNLT6A==")
POST_SIGNATURE = (
    "gmhMjgMROGElJU3fpehV2acD5kMHeELi8EFP2UPHOdQ54H0r55AxIpji+J3lPe+N2qSb/4H1KXIh6f0lRu8TGSsu12OQmg5hiO8VA"
    "9flcA/mh9Lpk+qwlQZIPRqKP9xUEfqD+Z7ti5wPzDKrWAUK/7FIqWgcT/mlqB1R1MGkpMFc/q4CIs2OSNiWgA4K+Kp21oQxzC2kU"
    "uYob04gAZ7cyE/FTia5t08uv6lVYFdRsn4XNPn1MsHgFBwBMRG79ng3SyhoG4PrqBEi5q2IdLq3zfre/M6He3wlCpyO2VJNdGVoT"
    "IzeZ0Zz8jUscPV3XtWUchpGclLGSaKaq/JyNZeiYQ==")
POST_UNSIGNED_DIGEST_SIGNATURE = (
    "CPD704CG8aCm8X8qIP8kkkiGp1qwFLk/wMVQHOGP0Txxan8c2DZtg/KK7eN8RG8tHx8br/yS2hJs51x4kXImYukGzNJd7ihE3T8lp"
    "+9RI1tCcdobTzr/VcVJHDFySdQkg266GCMijRQRZfNvqlJLiisr817PI+gNVBI5qV+vnVd1XhWCEZ+YSmMe8UqYARXAYNqMykThe"
    "ojqGpTeTFGPUpTQA2Fmt2BipwIjcFDm2Hpihl2kB0MUS0x3zPmHDuadvzoBbN6m3usPDLgYrpALlh+wDs1dYMntcwdwawRKY1oE1"
    "XNtgOSum12wntDq3uYL4gya2iPdcw3c929b4koUzw==")
OLD_SIGNATURE = (
    "G1NuJv4zgoZ3B/ZIjzDWZHK4RC+5pYee74q8/LJEMCWXhcnAomcb9YHaqk1QYfQvcBUIXw3UZ3Q9xO8F9y0i8G5mzJHfQ+OgHqCoJ"
    "k8EmGwsUXJMh5s1S5YFCRt8TT12TmJZz0VMqLq85ubueSYBM7QtUE/FzFIVLvz4RysgXxaXQKzdnM6+gbUEEKdCURpXdQt2NXQhp"
    "4MAmZH3+0lQoR6VxdsK0hx0Ji2PNp1nuqFTlYqNWZazVdLBN+9rETLRmvGXknvg9jOxTTppBVWnkAIl26HtLS3wwFVvz4pJzi9OQ"
    "DOvLziehVyLNbU61hky+oJ215e2HuKSe2hxHNl1MA==")


def _mastodon_header(names: str, signature: str) -> str:
    return f'keyId="{MASTODON_KEY_ID}",algorithm="rsa-sha256",headers="{names}",signature="{signature}"'


def _mastodon_get(signature: str, date: str = MASTODON_DATE) -> dict[str, str]:
    return {"Host": "www.example.com", "Date": date,
            "Signature": _mastodon_header("date host (request-target)", signature)}


def _mastodon_post(names: str, signature: str) -> dict[str, str]:
    return {"Host": "www.example.com", "Date": MASTODON_DATE, "Digest": MASTODON_DIGEST,
            "Signature": _mastodon_header(names, signature)}


def _verify_mastodon(method: str, path: str, headers: Mapping[str, str], body: bytes | None = None) -> SignatureParams:
    return signatures.verify_request(method, path, headers, body, MASTODON_PUBLIC, MASTODON_NOW)


def test_mastodon_signed_get_verifies() -> None:
    assert _verify_mastodon("GET", "/activitypub/success", _mastodon_get(GET_SIGNATURE)).key_id == MASTODON_KEY_ID


def test_mastodon_signed_get_with_query_verifies() -> None:
    _verify_mastodon("GET", "/activitypub/success?foo=42", _mastodon_get(GET_QUERY_SIGNATURE))


def test_mastodon_get_signed_without_its_query_verifies_as_mastodon_allows() -> None:
    # "when the query string is missing from the signature verification (compatibility quirk)"
    _verify_mastodon("GET", "/activitypub/success?foo=42", _mastodon_get(GET_SIGNATURE))


def test_mastodon_get_with_another_query_is_refused() -> None:
    reason = _reason(lambda: _verify_mastodon("GET", "/activitypub/success?foo=43", _mastodon_get(GET_QUERY_SIGNATURE)))
    assert "does not match" in reason


def test_mastodon_get_on_another_path_is_refused() -> None:
    assert "does not match" in _reason(lambda: _verify_mastodon("GET", "/activitypub/alternative-path",
                                                                 _mastodon_get(GET_SIGNATURE)))


def test_mastodon_get_signature_replayed_as_post_is_refused() -> None:
    headers = _mastodon_get(GET_SIGNATURE)
    assert "must cover the Digest" in _reason(lambda: _verify_mastodon("POST", "/activitypub/success", headers, b""))


def test_mastodon_signed_post_verifies() -> None:
    headers = _mastodon_post("host date digest (request-target)", POST_SIGNATURE)
    _verify_mastodon("POST", "/activitypub/success", headers, b"Hello world")


def test_mastodon_post_with_tampered_body_is_refused() -> None:
    headers = _mastodon_post("host date digest (request-target)", POST_SIGNATURE)
    reason = _reason(lambda: _verify_mastodon("POST", "/activitypub/success", headers, b"Hello world!"))
    assert "does not match its Digest" in reason


def test_mastodon_post_with_tampered_path_is_refused() -> None:
    headers = _mastodon_post("host date digest (request-target)", POST_SIGNATURE)
    reason = _reason(lambda: _verify_mastodon("POST", "/activitypub/alternative-path", headers, b"Hello world"))
    assert "does not match this request" in reason


def test_mastodon_post_without_signed_digest_is_refused() -> None:
    headers = _mastodon_post("host date (request-target)", POST_UNSIGNED_DIGEST_SIGNATURE)
    reason = _reason(lambda: _verify_mastodon("POST", "/activitypub/success", headers, b"Hello world"))
    assert reason == "the signature of a POST must cover the Digest header"


def test_mastodon_request_older_than_a_day_is_refused() -> None:
    headers = _mastodon_get(OLD_SIGNATURE, date="Wed, 18 Dec 2023 10:00:00 GMT")
    assert "expired" in _reason(lambda: _verify_mastodon("GET", "/activitypub/success", headers))


def test_we_produce_mastodons_exact_signatures_for_the_same_input() -> None:
    # RSASSA-PKCS1-v1_5 is deterministic: same key, same signing string, same bytes.
    get = signatures.sign_request("GET", "http://www.example.com/activitypub/success",
                                  {"Date": MASTODON_DATE, "Host": "www.example.com"},
                                  ["date", "host", "(request-target)"], MASTODON_KEY_ID, MASTODON_KEY)
    assert get == _mastodon_header("date host (request-target)", GET_SIGNATURE)
    post = signatures.sign_request("POST", "http://www.example.com/activitypub/success",
                                   {"Host": "www.example.com", "Date": MASTODON_DATE, "Digest": MASTODON_DIGEST},
                                   ["host", "date", "digest", "(request-target)"], MASTODON_KEY_ID, MASTODON_KEY)
    assert post == _mastodon_header("host date digest (request-target)", POST_SIGNATURE)


# --- our verifier refuses, with a reason ---------------------------------------------------------

def test_our_own_post_verifies() -> None:
    params = _verify_post(_signed_post())
    assert params.key_id == KEY_ID and params.algorithm == "rsa-sha256"


def test_unsigned_request_is_refused() -> None:
    headers = {k: v for k, v in _signed_post().items() if k != "Signature"}
    assert _reason(lambda: _verify_post(headers)) == "the request is not signed (no Signature header)"


@pytest.mark.parametrize("garbage", ["", "Basic dXNlcjpwYXNz", 'keyId="a",signature', 'keyId="unterminated',
                                     'keyId="a" signature="b"', 'keyId="a",,signature="b"'])
def test_garbled_signature_header_is_refused(garbage: str) -> None:
    with pytest.raises(SignatureError):
        _verify_post({**_signed_post(), "Signature": garbage})


def test_signature_without_key_id_is_refused() -> None:
    assert "needs both keyId and signature" in _reason(
        lambda: signatures.parse_signature_header('algorithm="rsa-sha256",signature="AAAA"'))


def test_signature_that_is_not_base64_is_refused() -> None:
    assert "not valid base64" in _reason(lambda: signatures.parse_signature_header('keyId="k",signature="@@@"'))


def test_wrong_key_is_refused() -> None:
    assert "signed with another key" in _reason(lambda: _verify_post(_signed_post(), public_pem=BOB_PUBLIC))


def test_key_that_is_not_rsa_pem_is_refused() -> None:
    assert "not a usable RSA key" in _reason(lambda: _verify_post(_signed_post(), public_pem="not a key"))


def test_tampered_body_is_refused() -> None:
    reason = _reason(lambda: _verify_post(_signed_post(), body=BODY + b" "))
    assert reason.startswith("the body does not match its Digest header")


def test_digest_left_out_of_a_post_signature_is_refused() -> None:
    headers = _signed_post()
    names = ["(request-target)", "host", "date", "content-type"]
    headers["Signature"] = signatures.sign_request("POST", INBOX, headers, names, KEY_ID, ALICE_PRIVATE)
    assert _reason(lambda: _verify_post(headers)) == "the signature of a POST must cover the Digest header"


@pytest.mark.parametrize("names", [["host", "date", "digest"], ["(request-target)", "date", "digest"],
                                   ["(request-target)", "host", "digest"]])
def test_post_signature_missing_a_required_header_is_refused(names: list[str]) -> None:
    headers = _signed_post()
    headers["Signature"] = signatures.sign_request("POST", INBOX, headers, names, KEY_ID, ALICE_PRIVATE)
    assert "must cover" in _reason(lambda: _verify_post(headers))


def test_digest_with_several_algorithms_and_lowercase_name_is_read() -> None:
    headers = _signed_post()
    sha512 = base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    headers["Digest"] = f"SHA-512={sha512}, sha-256={headers['Digest'].split('=', 1)[1]}"
    headers["Signature"] = signatures.sign_request("POST", INBOX, headers, POST_HEADERS, KEY_ID, ALICE_PRIVATE)
    _verify_post(headers)


def test_digest_without_sha256_is_refused() -> None:
    headers = _signed_post()
    headers["Digest"] = "SHA-512=" + base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    headers["Signature"] = signatures.sign_request("POST", INBOX, headers, POST_HEADERS, KEY_ID, ALICE_PRIVATE)
    assert "has no SHA-256 value (offered: sha-512)" in _reason(lambda: _verify_post(headers))


def test_date_within_mastodons_window_is_accepted() -> None:
    # signed_request.rb: 5 minutes of lifetime plus 1 hour of clock skew into the past, 1 hour ahead.
    _verify_post(_signed_post(), now=NOW + timedelta(minutes=65))
    _verify_post(_signed_post(), now=NOW - timedelta(minutes=60))


def test_stale_date_is_refused() -> None:
    reason = _reason(lambda: _verify_post(_signed_post(), now=NOW + timedelta(minutes=65, seconds=1)))
    assert "signature expired" in reason


def test_future_date_is_refused() -> None:
    reason = _reason(lambda: _verify_post(_signed_post(), now=NOW - timedelta(minutes=60, seconds=1)))
    assert "ahead of our clock" in reason


def test_unparseable_date_is_refused() -> None:
    headers = {**_signed_post(), "Date": "wrong date"}
    assert "not an HTTP date" in _reason(lambda: _verify_post(headers))


@pytest.mark.parametrize("algorithm", ["hmac-sha256", "rsa-sha512", "rsa-sha1", "ecdsa-sha256", "ed25519", "none"])
def test_unknown_algorithm_is_refused(algorithm: str) -> None:
    headers = _signed_post()
    headers["Signature"] = headers["Signature"].replace('algorithm="rsa-sha256"', f'algorithm="{algorithm}"')
    assert f"{algorithm!r} is not accepted" in _reason(lambda: _verify_post(headers))


@pytest.mark.parametrize("algorithm", ["hs2019", "RSA-SHA256"])
def test_hs2019_and_any_case_of_rsa_sha256_run_rsa_sha256(algorithm: str) -> None:
    headers = _signed_post()
    headers["Signature"] = headers["Signature"].replace('algorithm="rsa-sha256"', f'algorithm="{algorithm}"')
    _verify_post(headers)


def test_absent_algorithm_runs_rsa_sha256() -> None:
    headers = _signed_post()
    headers["Signature"] = headers["Signature"].replace('algorithm="rsa-sha256",', "")
    _verify_post(headers)


def test_signed_header_absent_from_the_request_is_refused() -> None:
    headers = {**_signed_post(), "X-Shop": "Bäckerei Moers"}
    headers["Signature"] = signatures.sign_request("POST", INBOX, headers, POST_HEADERS + ["x-shop"],
                                                   KEY_ID, ALICE_PRIVATE)
    _verify_post(headers)  # with the header present (non-ASCII as latin-1), it verifies
    del headers["X-Shop"]
    assert _reason(lambda: _verify_post(headers)) == "the signed header 'x-shop' is missing from the request"


def test_request_signed_for_another_host_is_refused_when_we_name_ours() -> None:
    headers = _signed_post()
    signatures.verify_request("POST", INBOX_PATH, headers, BODY, ALICE_PUBLIC, NOW, expected_host="LocalHost:8001")
    reason = _reason(lambda: signatures.verify_request("POST", INBOX_PATH, headers, BODY, ALICE_PUBLIC, NOW,
                                                       expected_host="localhost:8003"))
    assert reason == "the request was signed for host 'localhost:8001', not for 'localhost:8003'"


def test_headers_are_read_case_insensitively() -> None:
    _verify_post({name.lower(): value for name, value in _signed_post().items()})
    _verify_post({name.upper(): value for name, value in _signed_post().items()})


# --- parsing ---------------------------------------------------------------------------------------

def test_parse_tolerates_spaces_escapes_tokens_and_the_node_prefix() -> None:
    params = signatures.parse_signature_header(
        'Signature keyId = "https://x.test/a,b#k" ,  algorithm=hs2019,'
        ' headers="(request-target) Host  date", created=1714564800, note="a \\"quoted\\" word",'
        ' signature="AAAA"')
    assert params.key_id == "https://x.test/a,b#k"
    assert params.algorithm == "hs2019" and params.created == "1714564800"
    assert params.headers == ("(request-target)", "host", "date")
    assert params.signature == b"\x00\x00\x00"


def test_parse_defaults_headers_to_date() -> None:
    assert signatures.parse_signature_header('keyId="k",signature="AAAA"').headers == ("date",)


def test_parse_refuses_a_parameter_given_twice() -> None:
    assert "twice" in _reason(lambda: signatures.parse_signature_header('keyId="a",keyId="b",signature="AAAA"'))


# --- hs2019 with (created) and (expires) -----------------------------------------------------------

def _hs2019(created: datetime, expires: datetime) -> dict[str, str]:
    headers = {k: v for k, v in _signed_post().items() if k != "Signature"}
    names = ["(request-target)", "(created)", "(expires)", "host", "digest"]
    return _with_signature(headers, names, algorithm="hs2019", created=str(int(created.timestamp())),
                           expires=str(int(expires.timestamp())))


def test_hs2019_with_created_and_expires_verifies() -> None:
    _verify_post(_hs2019(NOW, NOW + timedelta(minutes=30)), now=NOW + timedelta(minutes=80))


def test_hs2019_past_its_expires_is_refused() -> None:
    headers = _hs2019(NOW, NOW + timedelta(minutes=30))
    assert "signature expired" in _reason(lambda: _verify_post(headers, now=NOW + timedelta(minutes=91)))


def test_expires_is_capped_at_twelve_hours() -> None:
    headers = _hs2019(NOW, NOW + timedelta(days=30))
    _verify_post(headers, now=NOW + timedelta(hours=13))
    assert "signature expired" in _reason(lambda: _verify_post(headers, now=NOW + timedelta(hours=13, seconds=1)))


def test_created_signed_with_rsa_sha256_is_refused() -> None:
    headers = {k: v for k, v in _signed_post().items() if k != "Signature"}
    signed = _with_signature(headers, ["(request-target)", "(created)", "host", "digest"],
                             created=str(int(NOW.timestamp())))
    assert "only be signed with algorithm hs2019" in _reason(lambda: _verify_post(signed))


def test_unsigned_created_cannot_refresh_an_old_request() -> None:
    # Mastodon trusts `created` even when (created) is not signed; appending it to a captured request
    # would make the request look new. Only the signed Date counts here.
    old = _signed_post(now=NOW - timedelta(hours=3))
    old["Signature"] = old["Signature"].replace('algorithm="rsa-sha256"', 'algorithm="hs2019"') \
        + f",created={int(NOW.timestamp())}"
    assert "signature expired" in _reason(lambda: _verify_post(old))


# --- helpers for the inbox -------------------------------------------------------------------------

def test_key_owner_hint_strips_the_fragment() -> None:
    assert signatures.key_owner_hint("https://moers.test/users/alice#main-key") == "https://moers.test/users/alice"
    assert signatures.key_owner_hint("https://gts.test/users/bob/main-key") == "https://gts.test/users/bob/main-key"


def test_signature_scheme_tells_cavage_rfc9421_and_unsigned_apart() -> None:
    assert signatures.signature_scheme({"Signature": 'keyId="k"'}) == "cavage"
    assert signatures.signature_scheme({"signature-input": "sig1=()", "signature": "sig1=:AA==:"}) == "rfc9421"
    assert signatures.signature_scheme({"Date": "x"}) is None
