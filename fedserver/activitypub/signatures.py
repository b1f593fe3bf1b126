"""HTTP Signatures (draft-cavage, as Mastodon speaks it): sign our requests, verify theirs.

Only RSASSA-PKCS1-v1_5 with SHA-256 ever runs. The algorithm is ours to choose, never the
header's (DESIGN.md "Federation rules"): httpsig 1.3.0 takes it from the header and so accepts an
HMAC keyed with the public key PEM, which anyone can compute. RFC 9421 lives in
signatures_rfc9421.py; `signature_scheme` tells the two apart.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fedserver.activitypub.keys import load_private_key, load_public_key

ACTIVITY_JSON = "application/activity+json"
POST_HEADERS = ("(request-target)", "host", "date", "digest", "content-type")
GET_HEADERS = ("(request-target)", "host", "date")

# Mastodon app/lib/signed_request.rb (formerly signature_verification.rb): EXPIRATION_WINDOW_LIMIT
# = 12.hours, CLOCK_SKEW_MARGIN = 1.hour, and a signature without `expires` lives 5 minutes. So a
# plain Date is accepted from 65 minutes in the past to 60 minutes in the future.
EXPIRATION_WINDOW_LIMIT = timedelta(hours=12)
CLOCK_SKEW_MARGIN = timedelta(hours=1)
DEFAULT_LIFETIME = timedelta(minutes=5)

# signed_request.rb `algorithm_supported?`: exactly these two; for us both mean RSA-SHA256.
_ACCEPTED_ALGORITHMS = frozenset({"rsa-sha256", "hs2019"})
_BODYLESS_METHODS = frozenset({"GET", "HEAD"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()

# RFC 7230 token and quoted-string, as in Mastodon's SignatureParamsParser (Parslet grammar).
_TOKEN = r"[0-9A-Za-z!#$%&'*+.^_`|~-]+"
# The quoted-string pattern is "unrolled" (Friedl): one pass over a 344-character signature.
_PARAM = re.compile(rf'[ \t]*({_TOKEN})[ \t]*=[ \t]*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|({_TOKEN}))[ \t]*(,|\Z)', re.S)
_UNSAFE_IN_QUOTES = re.compile(r'["\\\x00-\x1f\x7f]')


class SignatureError(ValueError):
    """A signature we refuse; `reason` says why in words a person understands."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SignatureParams:
    """The parameters of one draft-cavage `Signature` header."""

    key_id: str
    algorithm: str | None
    headers: tuple[str, ...]
    signature: bytes
    created: str | None = None  # raw text: it is signed verbatim as "(created): <text>"
    expires: str | None = None


def digest(body: bytes) -> str:
    """The Digest header value for a body: `SHA-256=<base64>` (RFC 3230, as Mastodon sends it)."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def format_http_date(now: datetime) -> str:
    """An RFC 7231 IMF-fixdate in GMT, e.g. `Wed, 20 Dec 2023 10:00:00 GMT`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (STYLE.md: timestamps are UTC)")
    return format_datetime(now.astimezone(timezone.utc), usegmt=True)


def authority(url: str) -> str:
    """The Host header for a URL: lower-case host, with the port only when not the scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host or parts.scheme.lower() not in _DEFAULT_PORTS:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    if ":" in host:  # an IPv6 literal keeps its brackets in Host (RFC 3986 section 3.2.2)
        host = f"[{host}]"
    port = parts.port
    # Two cities on one machine differ only by port (DESIGN.md), so a non-default port is kept.
    return host if port in (None, _DEFAULT_PORTS[parts.scheme.lower()]) else f"{host}:{port}"


def request_target(url: str) -> str:
    """The path and query of a URL as they appear on the request line."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def sign_request(method: str, url: str, headers: Mapping[str, str], signed_headers: Sequence[str],
                 key_id: str, private_pem: str) -> str:
    """The `Signature` header value (rsa-sha256) over the named headers of a request."""
    if _UNSAFE_IN_QUOTES.search(key_id):
        raise ValueError(f"keyId cannot be written in a quoted string: {key_id!r}")
    names = [name.lower() for name in signed_headers]
    text = _signing_string(method, request_target(url), _lowercase(headers), names, None)
    raw = rsa_sha256_sign(private_pem, text)
    return (f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
            f'signature="{base64.b64encode(raw).decode("ascii")}"')


def sign_post(url: str, body: bytes, key_id: str, private_pem: str, now: datetime,
              content_type: str = ACTIVITY_JSON) -> dict[str, str]:
    """Headers for a signed POST: Host, Date, Digest, Content-Type and Signature."""
    headers = {"Host": authority(url), "Date": format_http_date(now), "Digest": digest(body),
               "Content-Type": content_type}
    headers["Signature"] = sign_request("POST", url, headers, POST_HEADERS, key_id, private_pem)
    return headers


def sign_get(url: str, key_id: str, private_pem: str, now: datetime,
             accept: str = ACTIVITY_JSON) -> dict[str, str]:
    """Headers for a signed GET (authorized fetch): Host, Date, Accept and Signature."""
    headers = {"Host": authority(url), "Date": format_http_date(now), "Accept": accept}
    headers["Signature"] = sign_request("GET", url, headers, GET_HEADERS, key_id, private_pem)
    return headers


def parse_signature_header(value: str) -> SignatureParams:
    """Read a `Signature` header; raises SignatureError when it is not one."""
    text = value.strip()
    # "Old versions of node-http-signature add an incorrect 'Signature ' prefix" (Mastodon's parser).
    text = text.removeprefix("Signature ")
    fields: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _PARAM.match(text, position)
        if match is None:
            raise SignatureError(f"the Signature header cannot be parsed near {text[position:position + 20]!r}")
        key, quoted, token, separator = match.groups()
        if key in fields:
            raise SignatureError(f"the Signature header names {key!r} twice")
        if quoted is not None and "\\" in quoted:
            quoted = re.sub(r"\\(.)", r"\1", quoted, flags=re.S)
        fields[key] = quoted if quoted is not None else token
        position = match.end()
        if not separator:
            break
    if not fields.get("keyId") or not fields.get("signature"):
        raise SignatureError("the Signature header needs both keyId and signature")
    try:
        raw = base64.b64decode(fields["signature"], validate=True)
    except binascii.Error:
        raise SignatureError("the signature is not valid base64") from None
    # The draft-cavage default for a missing `headers` is ["date"]; it never passes our checks.
    names = tuple(fields.get("headers", "date").lower().split()) or ("date",)
    return SignatureParams(key_id=fields["keyId"], algorithm=fields.get("algorithm"), headers=names,
                           signature=raw, created=fields.get("created"), expires=fields.get("expires"))


def verify_request(method: str, path_with_query: str, headers: Mapping[str, str], body: bytes | None,
                   public_pem: str, now: datetime, max_skew: timedelta = CLOCK_SKEW_MARGIN, *,
                   expected_host: str | None = None) -> SignatureParams:
    """Check a draft-cavage signature, Digest and date; returns the params or raises SignatureError."""
    # path_with_query: the request target exactly as received (raw path, "?", raw query).
    # expected_host: our own authority, so a request signed for another server is not replayed here.
    fields = _lowercase(headers)
    value = fields.get("signature")
    if not value:
        raise SignatureError("the request is not signed (no Signature header)")
    params = parse_signature_header(value)
    algorithm = (params.algorithm or "hs2019").lower()
    if algorithm not in _ACCEPTED_ALGORITHMS:
        raise SignatureError(f"signature algorithm {params.algorithm!r} is not accepted: only rsa-sha256 "
                             "and hs2019 with an RSA key (RSASSA-PKCS1-v1_5, SHA-256)")
    _check_coverage(method, params, algorithm)
    host = fields.get("host")
    if host is None:
        raise SignatureError("the request has no Host header")
    if expected_host is not None and host.strip().lower() != expected_host.lower():
        # (request-target) binds only the path; the signed Host binds the server.
        raise SignatureError(f"the request was signed for host {host[:60]!r}, not for {expected_host!r}")
    check_time_window(_created_at(params, fields), _expires_at(params), now, max_skew)
    if "digest" in params.headers:
        _check_digest(fields.get("digest"), body or b"")
    key = public_key(public_pem)
    targets = [path_with_query]
    if method.upper() in _BODYLESS_METHODS and "?" in path_with_query:
        # Mastodon before 4.3 signed GETs without the query; signed_request.rb still accepts them.
        targets.append(path_with_query.split("?", 1)[0])
    for target in targets:
        if rsa_sha256_verifies(key, params.signature, _signing_string(method, target, fields, params.headers, params)):
            return params
    raise SignatureError("the signature does not match this request and key "
                         "(the request was changed, or signed with another key)")


def check_time_window(created_at: datetime, expires_at: datetime | None, now: datetime,
                      max_skew: timedelta = CLOCK_SKEW_MARGIN) -> None:
    """Refuse a signature from too far in the future or past its (capped) expiry, as Mastodon does."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (STYLE.md: timestamps are UTC)")
    if expires_at is None:
        expires_at = created_at + DEFAULT_LIFETIME
    expires_at = min(expires_at, created_at + EXPIRATION_WINDOW_LIMIT)
    if created_at > now + max_skew:
        raise SignatureError(f"the request is dated {created_at:%Y-%m-%d %H:%M:%S} UTC, more than "
                             f"{max_skew} ahead of our clock")
    if now > expires_at + max_skew:
        raise SignatureError(f"the request is dated {created_at:%Y-%m-%d %H:%M:%S} UTC and its signature "
                             f"expired at {expires_at:%H:%M:%S} UTC (we allow {max_skew} of clock skew)")


def key_owner_hint(key_id: str) -> str:
    """Where to fetch the signer: the keyId without its fragment (the fetched `owner` is what counts)."""
    # Mastodon keys are <actor>#main-key; GoToSocial's <actor>/main-key is a document of its own.
    return key_id.split("#", 1)[0]


def signature_scheme(headers: Mapping[str, str]) -> Literal["cavage", "rfc9421", None]:
    """Which signature scheme a request uses, so the inbox answers 401 (never 500) for others."""
    names = {name.lower() for name in headers}
    # Signature-Input exists only in RFC 9421 (Mastodon's SignedRequest#initialize decides the same way).
    if "signature-input" in names:
        return "rfc9421"
    return "cavage" if "signature" in names else None


def public_key(public_pem: str) -> rsa.RSAPublicKey:
    """The signer's RSA key from PEM (cached by keys.py); raises SignatureError for anything else."""
    try:
        return load_public_key(public_pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SignatureError("the signer's public key is not a usable RSA key") from None


def rsa_sha256_sign(private_pem: str, data: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 with SHA-256 over `data` (deterministic: same key and data, same bytes)."""
    return load_private_key(private_pem).sign(data, _PKCS1V15, _SHA256)


def rsa_sha256_verifies(key: rsa.RSAPublicKey, signature: bytes, data: bytes) -> bool:
    """Whether `signature` is RSASSA-PKCS1-v1_5 with SHA-256 over `data` by `key`."""
    try:
        key.verify(signature, data, _PKCS1V15, _SHA256)
    except InvalidSignature:
        return False
    return True


def parse_http_date(value: str) -> datetime:
    """Read an HTTP date (IMF-fixdate and the obsolete forms); raises SignatureError."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise SignatureError(f"the Date header is not an HTTP date: {value[:40]!r}") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


def from_unix(value: str | int, what: str) -> datetime:
    """A Unix timestamp as an aware UTC datetime; raises SignatureError naming `what`."""
    try:
        return datetime.fromtimestamp(int(value), tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise SignatureError(f"{what} is not a Unix timestamp: {str(value)[:20]!r}") from None


def to_wire_bytes(text: str) -> bytes:
    """Header text back to its bytes: ASGI decodes headers as latin-1, tests may hand in any str."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _lowercase(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _check_coverage(method: str, params: SignatureParams, algorithm: str) -> None:
    signed = set(params.headers)
    for required in ("(request-target)", "host"):
        if required not in signed:
            raise SignatureError(f"the signature must cover {required} (it covers: {' '.join(params.headers)})")
    # Mastodon's verify_signature_strength!: a date, and on POST the Digest, must be signed.
    if "date" not in signed and "(created)" not in signed:
        raise SignatureError("the signature must cover the Date header (or the (created) parameter)")
    if method.upper() not in _BODYLESS_METHODS and "digest" not in signed:
        raise SignatureError(f"the signature of a {method.upper()} must cover the Digest header")
    for pseudo, value in (("(created)", params.created), ("(expires)", params.expires)):
        if pseudo in signed and algorithm != "hs2019":
            # draft-cavage-http-signatures-12 section 2.3: (created)/(expires) only with hs2019.
            raise SignatureError(f"{pseudo} may only be signed with algorithm hs2019")
        if pseudo in signed and value is None:
            raise SignatureError(f"{pseudo} is signed but its parameter is missing")


def _created_at(params: SignatureParams, fields: Mapping[str, str]) -> datetime:
    # Only a *signed* (created) counts: Mastodon also trusts an unsigned one, which would let anyone
    # refresh the age of a captured request.
    if "(created)" in params.headers and params.created is not None:
        return from_unix(params.created, "the (created) parameter")
    date = fields.get("date")
    if date is None:
        raise SignatureError("the Date header is signed but missing")
    return parse_http_date(date)


def _expires_at(params: SignatureParams) -> datetime | None:
    if "(expires)" in params.headers and params.expires is not None:
        return from_unix(params.expires, "the (expires) parameter")
    return None


def _check_digest(value: str | None, body: bytes) -> None:
    if value is None:
        raise SignatureError("the Digest header is signed but missing")
    offered: dict[str, str] = {}
    for part in value.split(","):  # "SHA-256=...,SHA-512=..." (RFC 3230 section 4.3.2)
        name, separator, encoded = part.strip().partition("=")
        if separator:
            offered.setdefault(name.strip().lower(), encoded.strip())
    given = offered.get("sha-256")
    if given is None:
        raise SignatureError(f"the Digest header has no SHA-256 value (offered: {', '.join(offered) or 'none'})")
    expected = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    if not hmac.compare_digest(given.encode("latin-1", "replace"), expected.encode("ascii")):
        raise SignatureError("the body does not match its Digest header (SHA-256 differs): "
                             "it was changed or cut short on the way")


def _signing_string(method: str, target: str, fields: Mapping[str, str], names: Sequence[str],
                    params: SignatureParams | None) -> bytes:
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in ("(created)", "(expires)"):
            value = None if params is None else (params.created if name == "(created)" else params.expires)
            if value is None:
                raise SignatureError(f"{name} is signed but its parameter is missing")
            lines.append(f"{name}: {value}")
        else:
            header = fields.get(name)
            if header is None:
                raise SignatureError(f"the signed header {name!r} is missing from the request")
            # draft-cavage-http-signatures-12 section 2.3: leading and trailing whitespace is dropped.
            lines.append(f"{name}: {header.strip()}")
    return to_wire_bytes("\n".join(lines))
