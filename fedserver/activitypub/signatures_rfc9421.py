"""RFC 9421 HTTP Message Signatures (Signature-Input + Signature), as Mastodon 4.5 and Fedify send them.

Only rsa-v1_5-sha256 runs, whatever `alg` says. The structured-field code below is the small part
of RFC 8941 these headers use: dictionaries, inner lists, parameters and bare items.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from fedserver.activitypub.signatures import (
    CLOCK_SKEW_MARGIN, SignatureError, authority, check_time_window, format_http_date, from_unix,
    public_key, rsa_sha256_sign, rsa_sha256_verifies, to_wire_bytes,
)

ALGORITHM = "rsa-v1_5-sha256"  # RFC 9421 section 3.3.2; the only one we run
# What Fedify covers by default (packages/fedify/src/sig/http.ts signRequestRfc9421).
DEFAULT_COMPONENTS = ("@method", "@target-uri", "@authority", "host", "date")
_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}  # RFC 9530 section 5
_BODYLESS_METHODS = frozenset({"GET", "HEAD"})
# RFC 8941 section 3: the grammar of keys and bare items.
_KEY = re.compile(r"[a-z*][a-z0-9_.*-]*")
_INTEGER = re.compile(r"-?[0-9]{1,15}(?![0-9.])")
_STRING = re.compile(r'"[\x20\x21\x23-\x5b\x5d-\x7e]*(?:\\["\\][\x20\x21\x23-\x5b\x5d-\x7e]*)*"')
_BYTES = re.compile(r":[A-Za-z0-9+/=]*:")
_BOOLEAN = re.compile(r"\?[01]")
_TOKEN = re.compile(r"[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")

BareItem = int | str | bytes | bool  # sf-integer, sf-string or Token, sf-binary, sf-boolean
Parameters = dict[str, BareItem]


class Token(str):
    """An sf-token: text that serialises without quotes (RFC 8941 section 3.3.4)."""


@dataclass(frozen=True, slots=True)
class Member:
    """A dictionary member: a bare item or an inner list of (item, parameters), with parameters."""

    value: BareItem | list[tuple[BareItem, Parameters]]
    params: Parameters


@dataclass(frozen=True, slots=True)
class MessageSignature:
    """One RFC 9421 signature of a request: label, covered components, parameters and bytes."""

    label: str
    components: tuple[str, ...]
    key_id: str
    alg: str | None
    created: int
    expires: int | None
    signature: bytes
    signature_params: str  # the serialised "@signature-params" value the signature base ends with


def parse_message_signature(headers: Mapping[str, str], label: str | None = None) -> MessageSignature:
    """Read the signature `label` (default: the first) from Signature-Input and Signature."""
    fields = {name.lower(): value for name, value in headers.items()}
    inputs = _header_dictionary(fields, "signature-input")
    values = _header_dictionary(fields, "signature")
    label = label if label is not None else next(iter(inputs), "")
    member = inputs.get(label)
    if member is None or not isinstance(member.value, list):
        raise SignatureError(f"Signature-Input has no list of components labelled {label!r}")
    components: list[str] = []
    for item, item_params in member.value:
        if not isinstance(item, str) or isinstance(item, Token) or item_params:
            raise SignatureError(f"covered component {item!r} is not supported (plain names only, no ;sf ;key ;req)")
        if item in components:  # RFC 9421 section 2.5: a component may be covered once
            raise SignatureError(f"covered component {item!r} is listed twice")
        components.append(item)
    params = member.params
    key_id, alg = params.get("keyid"), params.get("alg")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError("the signature has no keyid")
    if alg is not None and (not isinstance(alg, str) or isinstance(alg, Token)):
        raise SignatureError("the signature's alg is not a string")
    created, expires = _integer_param(params, "created"), _integer_param(params, "expires")
    if created is None:  # Mastodon's HttpMessageSignature: REQUIRED_PARAMETERS = keyid created
        raise SignatureError("the signature has no `created` time")
    raw = values.get(label)
    if raw is None or not isinstance(raw.value, bytes) or not raw.value:
        raise SignatureError(f"the Signature header has no signature bytes labelled {label!r}")
    return MessageSignature(label=label, components=tuple(components), key_id=key_id, alg=alg,
                            created=created, expires=expires, signature=raw.value,
                            signature_params=serialize_inner_list(member.value, params))


def verify_rfc9421(method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                   public_pem: str, now: datetime, *, label: str | None = None,
                   max_skew: timedelta = CLOCK_SKEW_MARGIN) -> MessageSignature:
    """Check an RFC 9421 signature, Content-Digest and age; returns it or raises SignatureError."""
    # url: the absolute URL the request was addressed to (our scheme and domain, raw path and query).
    fields = {name.lower(): value for name, value in headers.items()}
    signature = parse_message_signature(fields, label)
    if signature.alg is not None and signature.alg != ALGORITHM:
        raise SignatureError(f"signature alg {signature.alg!r} is not accepted: only {ALGORITHM}")
    _check_coverage(method, signature.components)
    expires_at = None if signature.expires is None else from_unix(signature.expires, "expires")
    check_time_window(from_unix(signature.created, "created"), expires_at, now, max_skew)
    if "content-digest" in signature.components:
        _check_content_digest(fields.get("content-digest"), body or b"")
    base = signature_base(method, url, fields, signature.components, signature.signature_params)
    if not rsa_sha256_verifies(public_key(public_pem), signature.signature, base):
        raise SignatureError("the signature does not match this request and key "
                             "(the request was changed, or signed with another key)")
    return signature


def sign_rfc9421(method: str, url: str, headers: Mapping[str, str], body: bytes | None, key_id: str,
                 private_pem: str, now: datetime, *, components: Sequence[str] | None = None,
                 label: str = "sig1", expires: datetime | None = None) -> dict[str, str]:
    """The request's headers plus Host, Date, Content-Digest (when missing) and the signature headers."""
    signed = dict(headers)
    present = {name.lower() for name in signed}
    if "host" not in present:
        signed["Host"] = authority(url)
    if "date" not in present:
        signed["Date"] = format_http_date(now)
    if body is not None and "content-digest" not in present:
        signed["Content-Digest"] = "sha-256=" + serialize_bare(hashlib.sha256(body).digest())
    if components is None:
        components = DEFAULT_COMPONENTS + (("content-digest",) if body is not None else ())
    # Parameter order as in the RFC's examples (section 4.3); the verifier re-serialises what it got.
    params: Parameters = {"created": int(now.timestamp()), "keyid": key_id, "alg": ALGORITHM}
    if expires is not None:
        params["expires"] = int(expires.timestamp())
    signature_params = serialize_inner_list([(name, {}) for name in components], params)
    base = signature_base(method, url, {k.lower(): v for k, v in signed.items()}, components, signature_params)
    raw = rsa_sha256_sign(private_pem, base)
    signed["Signature-Input"] = f"{_key(label)}={signature_params}"
    signed["Signature"] = f"{label}={serialize_bare(raw)}"
    return signed


def signature_base(method: str, url: str, fields: Mapping[str, str], components: Sequence[str],
                   signature_params: str) -> bytes:
    """The bytes an RFC 9421 signature covers (section 2.5), from lower-cased header fields."""
    derived = _derived_components(method, url)
    lines = [f'"{name}": {_component_value(name, derived, fields)}' for name in components]
    lines.append(f'"@signature-params": {signature_params}')
    return to_wire_bytes("\n".join(lines))


def parse_dictionary(text: str) -> dict[str, Member]:
    """Parse an RFC 8941 Dictionary (section 4.2.2); raises ValueError on malformed input."""
    parser = _Parser(text)
    result: dict[str, Member] = {}
    parser.skip(" ")
    while not parser.done():
        key = parser.key()
        if parser.peek() == "=":
            parser.position += 1
            result[key] = parser.inner_list() if parser.peek() == "(" else parser.item()
        else:
            result[key] = Member(True, parser.parameters())
        parser.skip(" \t")
        if parser.done():
            break
        parser.expect(",")
        parser.skip(" \t")
        if parser.done():
            raise ValueError("trailing comma")
    return result


def serialize_bare(value: BareItem) -> str:
    """Serialise an RFC 8941 bare item (section 4.1.3)."""
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if isinstance(value, Token):
        return value
    if not _PRINTABLE.fullmatch(value):
        raise ValueError(f"not an sf-string (printable ASCII only): {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_inner_list(items: Sequence[tuple[BareItem, Parameters]], params: Parameters) -> str:
    """Serialise an inner list with its parameters (RFC 8941 section 4.1.1.1)."""
    inner = " ".join(serialize_bare(item) + _serialize_params(item_params) for item, item_params in items)
    return f"({inner}){_serialize_params(params)}"


def _serialize_params(params: Parameters) -> str:
    return "".join(f";{_key(k)}" if v is True else f";{_key(k)}={serialize_bare(v)}" for k, v in params.items())


def _key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not an sf-key: {key!r}")
    return key


def _integer_param(params: Parameters, name: str) -> int | None:
    value = params.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise SignatureError(f"the signature's `{name}` is not an integer Unix time")
    return value


def _header_dictionary(fields: Mapping[str, str], name: str) -> dict[str, Member]:
    value = fields.get(name)
    if not value:
        raise SignatureError(f"the request has no {name.title()} header")
    try:
        return parse_dictionary(value)
    except ValueError as error:
        raise SignatureError(f"the {name.title()} header is not a structured dictionary ({error})") from None


def _check_coverage(method: str, components: Sequence[str]) -> None:
    covered = set(components)
    # Mastodon 4.5 (signed_request.rb verify_signature_strength!) requires @method and @target-uri;
    # @authority with @path names the same resource, which lets RFC 9421's own examples pass too.
    if "@method" not in covered:
        raise SignatureError("the signature must cover @method")
    if "@target-uri" not in covered and not ("@authority" in covered and covered & {"@path", "@request-target"}):
        raise SignatureError("the signature must cover @target-uri (or @authority and @path)")
    if method.upper() not in _BODYLESS_METHODS and "content-digest" not in covered:
        raise SignatureError(f"the signature of a {method.upper()} must cover the Content-Digest header")


def _check_content_digest(value: str | None, body: bytes) -> None:
    if value is None:
        raise SignatureError("the Content-Digest header is signed but missing")
    try:
        offered = parse_dictionary(value)
    except ValueError:
        raise SignatureError("the Content-Digest header is not a structured dictionary (RFC 9530)") from None
    checked = False
    for name, algorithm in _DIGESTS.items():
        member = offered.get(name)
        if member is None:
            continue
        if not isinstance(member.value, bytes) or not hmac.compare_digest(member.value, algorithm(body).digest()):
            raise SignatureError(f"the body does not match its Content-Digest ({name} differs): "
                                 "it was changed or cut short on the way")
        checked = True
    if not checked:
        raise SignatureError(f"Content-Digest offers no sha-256 or sha-512 (offered: {', '.join(offered) or 'none'})")


def _derived_components(method: str, url: str) -> dict[str, str]:
    # RFC 9421 section 2.2; @target-uri is rebuilt from its parts, as WHATWG URL parsers (Fedify) do.
    parts = urlsplit(url)
    host, path, query = authority(url), parts.path or "/", parts.query
    target = path + (f"?{query}" if query else "")
    scheme = parts.scheme.lower()
    return {"@method": method, "@target-uri": f"{scheme}://{host}{target}", "@authority": host,
            "@scheme": scheme, "@request-target": target, "@path": path,
            "@query": f"?{query}"}  # section 2.2.7: an absent query is "?"


def _component_value(name: str, derived: Mapping[str, str], fields: Mapping[str, str]) -> str:
    if name.startswith("@"):
        if name not in derived:
            raise SignatureError(f"the derived component {name!r} is not supported")
        return derived[name]
    value = fields.get(name)  # RFC 9421 section 2.1: a field is its value, trimmed, on one line
    if value is None:
        raise SignatureError(f"the signed header {name!r} is missing from the request")
    if "\n" in value or "\r" in value:
        raise SignatureError(f"the signed header {name!r} spans several lines")
    return value.strip()


class _Parser:
    """A cursor over one structured field value (RFC 8941 section 4.2)."""

    def __init__(self, text: str) -> None:
        self.text, self.position = text.strip(" "), 0

    def done(self) -> bool:
        return self.position >= len(self.text)

    def peek(self) -> str:
        return self.text[self.position:self.position + 1]

    def skip(self, chars: str) -> None:
        while not self.done() and self.text[self.position] in chars:
            self.position += 1

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise ValueError(f"expected {char!r} at {self.position}")
        self.position += 1

    def match(self, pattern: re.Pattern[str]) -> str:
        found = pattern.match(self.text, self.position)
        if found is None:
            raise ValueError(f"unexpected {self.peek()!r} at {self.position}")
        self.position = found.end()
        return found.group(0)

    def key(self) -> str:
        return self.match(_KEY)

    def parameters(self) -> Parameters:
        params: Parameters = {}
        while self.peek() == ";":
            self.position += 1
            self.skip(" ")
            key = self.key()
            params[key] = True
            if self.peek() == "=":
                self.position += 1
                params[key] = self.bare_item()
        return params

    def item(self) -> Member:
        return Member(self.bare_item(), self.parameters())

    def inner_list(self) -> Member:
        self.expect("(")
        items: list[tuple[BareItem, Parameters]] = []
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.position += 1
                return Member(items, self.parameters())
            items.append((self.bare_item(), self.parameters()))
            if self.peek() not in (" ", ")"):
                raise ValueError(f"unexpected {self.peek()!r} in inner list at {self.position}")

    def bare_item(self) -> BareItem:
        first = self.peek()
        if first == "-" or first.isdigit():
            return int(self.match(_INTEGER))  # decimals do not occur in these headers
        if first == '"':
            raw = self.match(_STRING)
            return re.sub(r'\\(["\\])', r"\1", raw[1:-1])
        if first == ":":
            encoded = self.match(_BYTES)[1:-1]
            try:
                return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
            except binascii.Error:
                raise ValueError("bad base64 in byte sequence") from None
        if first == "?":
            return self.match(_BOOLEAN) == "?1"
        return Token(self.match(_TOKEN))
