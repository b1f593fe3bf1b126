"""The signed fetcher: GET a remote JSON document as the instance actor, within size, type,
redirect and time limits.

Limits follow Mastodon's app/lib/request.rb: at most 3 redirects (`follow(max_hops: 3)`), a
body of at most 1 MiB (`body_with_limit(limit = 1.megabyte)`, checked against Content-Length
first and then while reading), gzip asked for with `Accept-Encoding` and 10 s for a read. Which
addresses may be reached is the transport's business (ssrf.py); this module re-checks only the
scheme, so that a redirect to file: or gopher: is refused even over an unguarded client.
"""
from __future__ import annotations

import json
import logging
import zlib
from datetime import datetime, timezone
from typing import Any, Final
from urllib.parse import quote

import anyio
import httpx

from fedserver.activitypub import signatures, vocab, webfinger
from fedserver.activitypub.errors import MalformedObject, NotAllowed, OriginMismatch, PeerUnavailable
from fedserver.activitypub.ssrf import ForbiddenAddress

logger = logging.getLogger(__name__)

ACTIVITY_ACCEPT: Final = f"{vocab.ACTIVITY_JSON}, {vocab.LD_JSON_AS2}"
WEBFINGER_ACCEPT: Final = f"{vocab.JRD_JSON}, application/json"
# application/json too: some servers (and proxies in front of them) answer AS2 as plain JSON.
JSON_MEDIA_TYPES: Final = frozenset({vocab.ACTIVITY_JSON, "application/ld+json", "application/json",
                                     vocab.JRD_JSON})
_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_GONE_STATUSES: Final = frozenset({404, 410})
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


class Gone(LookupError):
    """The peer answered 404 or 410: there is no such document (410: it was deleted)."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"{url} answered {status}")
        self.url = url
        self.status = status

    @property
    def is_deleted(self) -> bool:
        """410 Gone: the peer says the document existed and was deleted (Mastodon answers so)."""
        return self.status == 410


class UnexpectedStatus(PeerUnavailable):
    """The peer answered with an error status other than 404/410; `status` holds it."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"{url} answered {status}")
        self.url = url
        self.status = status


def origin_of(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an absolute http(s) URL: an origin (DESIGN.md "Federation rules")."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise MalformedObject("id", f"not a URL: {url[:80]!r}") from None
    if parsed.scheme not in _DEFAULT_PORTS or not parsed.host:
        raise MalformedObject("id", f"not an absolute http(s) URL: {url[:80]!r}")
    return parsed.scheme, parsed.host, parsed.port or _DEFAULT_PORTS[parsed.scheme]


class Fetcher:
    """GETs remote ActivityPub and WebFinger documents, signed as the instance actor."""

    def __init__(self, http: httpx.AsyncClient, *, key_id: str, private_pem: str, user_agent: str,
                 max_bytes: int = 1_048_576, timeout: float = 10.0, max_redirects: int = 3,
                 insecure_http: bool = False) -> None:
        self._http = http
        self._key_id = key_id
        self._private_pem = private_pem
        self._user_agent = user_agent
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._max_redirects = max_redirects
        # insecure_http: WebFinger over http:// (test cities, `fedserver serve --http`), and a
        # redirect from https to http is followed instead of refused.
        self._insecure_http = insecure_http

    async def fetch_json(self, url: str, *, now: datetime | None = None,
                         accept: str = ACTIVITY_ACCEPT) -> dict[str, Any]:
        """The JSON object at `url`; raises Gone, PeerUnavailable, MalformedObject or NotAllowed."""
        return (await self._fetch(url, now, accept))[1]

    async def fetch_object(self, url: str, *, now: datetime | None = None) -> dict[str, Any]:
        """The ActivityPub document at `url`, whose `id` must share the origin it was served from."""
        final_url, doc = await self._fetch(url, now, ACTIVITY_ACCEPT)
        object_id = doc.get("id")
        if not isinstance(object_id, str) or not object_id:
            raise MalformedObject("id", f"the document at {final_url} has no id")
        # A document speaks for its own origin only (DESIGN.md): otherwise any server could
        # serve an "actor" with someone else's id and key.
        if origin_of(object_id) != origin_of(final_url):
            logger.info("fetch %s: id %s is from another origin", final_url, object_id)
            raise OriginMismatch(f"{final_url} served a document with id {object_id}, "
                                 "which belongs to another origin")
        return doc

    async def resolve_handle(self, handle: str, *, scheme: str | None = None,
                             now: datetime | None = None) -> str:
        """The actor IRI for `@user@host` or `user@host` via WebFinger (RFC 7033); Gone if unknown."""
        user, domain = webfinger.parse_resource(handle)  # MalformedObject for anything else
        scheme = scheme or ("http" if self._insecure_http else "https")
        if scheme not in _DEFAULT_PORTS:
            raise ValueError(f"WebFinger scheme must be http or https, not {scheme!r}")
        # RFC 7033 section 4: the resource is a query parameter; ':' and '@' may stay as they are
        # (RFC 3986 section 3.4), which is also how Mastodon's Webfinger client sends it.
        resource = quote(f"acct:{user}@{domain}", safe=":@")
        doc = await self.fetch_json(f"{scheme}://{domain}/.well-known/webfinger?resource={resource}",
                                    now=now, accept=WEBFINGER_ACCEPT)
        actor = webfinger.parse_jrd(doc)
        try:
            origin_of(actor)
        except MalformedObject:
            raise MalformedObject("links", f"the self link of {handle} is not an http(s) URL") from None
        return actor

    async def _fetch(self, url: str, now: datetime | None, accept: str) -> tuple[str, dict[str, Any]]:
        try:
            # One deadline for all hops and the whole body: httpx's timeouts are per read, and a
            # peer trickling one byte every few seconds would otherwise hold a worker for ever.
            with anyio.fail_after(self._timeout):
                return await self._follow(url, now, accept)
        except TimeoutError:
            logger.info("fetch %s: no complete answer within %s s", url, self._timeout)
            raise PeerUnavailable(f"{url}: no complete answer within {self._timeout} s") from None

    async def _follow(self, url: str, now: datetime | None, accept: str) -> tuple[str, dict[str, Any]]:
        current = _checked_url(url, base=None, insecure_http=True)
        for hop in range(self._max_redirects + 1):
            headers = signatures.sign_get(str(current), self._key_id, self._private_pem,
                                          now or datetime.now(timezone.utc), accept=accept)
            headers["User-Agent"] = self._user_agent
            headers["Accept-Encoding"] = "gzip"  # and nothing we cannot inflate with a bound
            try:
                async with self._http.stream("GET", current, headers=headers, follow_redirects=False,
                                             timeout=self._timeout) as response:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECT_STATUSES and location:
                        if hop == self._max_redirects:
                            logger.info("fetch %s: more than %d redirects", url, self._max_redirects)
                            raise PeerUnavailable(f"{url}: more than {self._max_redirects} redirects")
                        target = _checked_url(location, base=current, insecure_http=self._insecure_http)
                        logger.debug("fetch %s: %d redirect to %s", current, response.status_code, target)
                        current = target
                        continue
                    return str(current), await self._read_json(str(current), response)
            except ForbiddenAddress as exc:
                logger.warning("fetch %s refused: %s", current, exc)
                raise NotAllowed(str(exc)) from exc
            except httpx.TransportError as exc:
                logger.info("fetch %s failed: %s: %s", current, type(exc).__name__, exc)
                raise PeerUnavailable(f"{current}: {type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable: the last hop returns or raises")

    async def _read_json(self, url: str, response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        if status in _GONE_STATUSES:
            logger.info("fetch %s: %d", url, status)
            raise Gone(url, status)
        if not 200 <= status < 300:
            logger.info("fetch %s: %d", url, status)
            raise UnexpectedStatus(url, status)
        media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type not in JSON_MEDIA_TYPES:
            logger.info("fetch %s: content type %r is not JSON", url, media_type)
            raise MalformedObject("Content-Type", f"{url} answered {media_type or 'no content type'!r}, "
                                                  "not ActivityPub JSON")
        body = await self._read_body(url, response)
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            raise MalformedObject("body", f"{url} did not answer valid JSON") from None
        if not isinstance(doc, dict):
            raise MalformedObject("body", f"{url} answered JSON that is not an object")
        return doc

    async def _read_body(self, url: str, response: httpx.Response) -> bytes:
        limit = self._max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:  # refuse before reading a byte
            raise _too_large(url, limit)
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip", "x-gzip", "deflate"):
            raise MalformedObject("Content-Encoding", f"{url} answered {encoding[:40]!r}, which we did not ask for")
        # httpx's own decoder inflates a chunk without bound (a 1 MiB gzip bomb becomes 1 GiB),
        # so read the raw bytes and inflate with max_length. wbits 32+15: gzip or zlib header.
        inflater = None if encoding == "identity" else zlib.decompressobj(32 + zlib.MAX_WBITS)
        parts: list[bytes] = []
        received = size = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > limit:  # the wire bytes count too, whatever they inflate to
                raise _too_large(url, limit)
            if inflater is not None:
                try:
                    chunk = inflater.decompress(chunk, limit - size + 1)
                except zlib.error:
                    raise MalformedObject("body", f"{url} sent a broken {encoding} body") from None
            size += len(chunk)
            if size > limit:  # stop reading: the connection is closed, the rest never arrives
                raise _too_large(url, limit)
            parts.append(chunk)
        if inflater is not None:  # every input byte was consumed above; flush returns what zlib held back
            parts.append(inflater.flush())
            if size + len(parts[-1]) > limit:
                raise _too_large(url, limit)
        return b"".join(parts)


def _too_large(url: str, limit: int) -> MalformedObject:
    logger.info("fetch %s: body larger than %d bytes", url, limit)
    return MalformedObject("body", f"{url} answered more than {limit} bytes")


def _checked_url(url: str, *, base: httpx.URL | None, insecure_http: bool) -> httpx.URL:
    """`url` (relative to `base` for a redirect's Location) if it is an http(s) URL we may follow."""
    try:
        parsed = httpx.URL(url) if base is None else base.join(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise MalformedObject("url", f"not a URL: {url[:80]!r}") from None
    if parsed.scheme not in _DEFAULT_PORTS or not parsed.host:
        raise NotAllowed(f"only absolute http(s) URLs are fetched, not {url[:80]!r}")
    if base is not None and base.scheme == "https" and parsed.scheme == "http" and not insecure_http:
        raise NotAllowed(f"{base} redirected to plain http ({parsed}); refused")
    return parsed.copy_with(fragment=None)
