"""A small but real remote server for federation tests: a Starlette app that the Router reaches by host.

A `Peer` speaks as one kind of software (Mastodon, Pleroma, Misskey, GoToSocial, Lemmy, Mobilizon,
Pixelfed): it serves its actors (fixture-shaped documents rehosted onto its origin, with a real RSA key)
and any object registered with `serve`, answers WebFinger, and delivers activities to a city signed
the way that software signs (draft-cavage, its own header list, keyId and JSON encoder). What the city
POSTs back to the peer's inboxes is recorded in `received`, with the signature checked independently
of fedserver's verifier (fetched key, rebuilt signing string, `cryptography`).
"""
from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.cities import City
from tests.federation.cities import Federation

FIXTURES = Path(__file__).parents[1] / "fixtures"
KEYS = FIXTURES / "keys"
ACTIVITY_JSON = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _compact(doc: Any) -> str:
    """Oj (Mastodon), Jason (Pleroma, Mobilizon), JSON.stringify (Misskey), serde_json (Lemmy): compact UTF-8."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _go_json(doc: Any) -> str:
    # Go's encoding/json escapes <, > and & inside strings by default (GoToSocial bodies show \u003c).
    text = _compact(doc)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _php_json(doc: Any) -> str:
    # PHP's json_encode without flags escapes "/" and every non-ASCII character (Pixelfed's bodies).
    return json.dumps(doc, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


@dataclass(frozen=True)
class Software:
    """How one server software names its actors, signs its POSTs and writes its JSON (sources per field)."""

    actor_fixture: str  # an actor document of that software under tests/fixtures
    actor_path: str  # path of an actor's IRI, {name} is the username
    key_suffix: str  # appended to the actor IRI to make the keyId
    signed_headers: tuple[str, ...]
    algorithm: str
    shared_inbox: str = "/inbox"
    content_type: str = ACTIVITY_JSON
    user_agent: str = ""
    dumps: Callable[[Any], str] = _compact
    # The order of the Signature header's parameters; parsers must not care, Pixelfed puts headers first.
    param_order: tuple[str, ...] = ("keyId", "algorithm", "headers", "signature")
    signed_fetch: bool = False  # answers unsigned GETs with 401 (GoToSocial always, Mastodon in secure mode)


SOFTWARE: dict[str, Software] = {
    # Mastodon app/lib/request.rb: (request-target) host date digest content-type, keyId <actor>#main-key.
    "mastodon": Software("mastodon/actor_person.json", "/users/{name}", "#main-key",
                         ("(request-target)", "host", "date", "digest", "content-type"), "rsa-sha256",
                         user_agent="http.rb/5.1.1 (Mastodon/4.3.0; +https://{host}/)"),
    # Pleroma/Akkoma Publisher.publish_one: an Elixir map of atoms, so the headers come sorted.
    "pleroma": Software("pleroma/actor.json", "/users/{name}", "#main-key",
                        ("(request-target)", "content-length", "date", "digest", "host"), "rsa-sha256",
                        user_agent="Pleroma 2.6.0; https://{host} <admin@{host}>"),
    # Misskey ApRequestService.createSignedPost: ['(request-target)', 'date', 'host', 'digest'].
    "misskey": Software("misskey/actor.json", "/users/{name}", "#main-key",
                        ("(request-target)", "date", "host", "digest"), "rsa-sha256",
                        user_agent="Misskey/2024.5.0 (https://{host})"),
    # GoToSocial docs/federation/http_signatures.md: POST (request-target) host date digest, keyId
    # <actor>/main-key served as a stub document, and every GET must be signed.
    "gotosocial": Software("gotosocial/actor.json", "/users/{name}", "/main-key",
                           ("(request-target)", "host", "date", "digest"), "hs2019", dumps=_go_json,
                           user_agent="gotosocial (+https://{host}) gotosocial/0.16.0", signed_fetch=True),
    # Lemmy (activitypub-federation, http-signature-normalization): hs2019, headers sorted.
    "lemmy": Software("lemmy/actor_person.json", "/u/{name}", "#main-key",
                      ("(request-target)", "content-type", "date", "digest", "host"), "hs2019",
                      user_agent="Lemmy/0.19.3; +https://{host}"),
    # Mobilizon Federator.publish_one, like Pleroma's; actors live at /@name.
    "mobilizon": Software("mobilizon/actor.json", "/@{name}", "#main-key",
                          ("(request-target)", "content-length", "date", "digest", "host"), "rsa-sha256",
                          user_agent="Mobilizon 4.0.2 - https://{host}"),
    # Pixelfed HttpSignature::sign + ActivityPubDeliveryService: date before host, then the extra headers.
    "pixelfed": Software("pixelfed/actor.json", "/users/{name}", "#main-key",
                         ("(request-target)", "date", "host", "digest", "content-type", "user-agent"),
                         "rsa-sha256", shared_inbox="/f/inbox",
                         content_type='application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                         user_agent="(Pixelfed/0.12.1; +https://{host})", dumps=_php_json,
                         param_order=("keyId", "headers", "algorithm", "signature")),
}

_KEY_FILES = ("alice_private.pem", "bob_private.pem", "mastodon_spec_private.pem")
_key_turn = itertools.count()


def _fixture_key() -> tuple[str, str]:
    """(private PEM, public PEM) of one of the test keys in tests/fixtures/keys, in turn."""
    private_pem = (KEYS / _KEY_FILES[next(_key_turn) % len(_KEY_FILES)]).read_text(encoding="ascii")
    key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    return private_pem, public_pem


def load_fixture(name: str) -> dict[str, Any]:
    """A JSON document from tests/fixtures, e.g. "mastodon/create_note.json"."""
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return document


def origin_of(iri: str) -> str:
    parts = urlsplit(iri)
    return f"{parts.scheme}://{parts.netloc}"


def rehost(value: Any, mapping: Mapping[str, str]) -> Any:
    """A deep copy with every occurrence of each IRI (or origin) in `mapping` replaced, longest first.

    Replacement works inside strings too (HTML content links to the mentioned actor), but never in
    the middle of a longer name: "https://a.example/users/bob" does not touch ".../users/bobby".
    """
    if not mapping:
        return json.loads(json.dumps(value))
    pattern = re.compile("|".join(re.escape(old) + r"(?![A-Za-z0-9_\-])"
                                  for old in sorted(mapping, key=len, reverse=True)))

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub(lambda match: mapping[match.group(0)], item)
        if isinstance(item, list):
            return [walk(entry) for entry in item]
        if isinstance(item, dict):
            return {key: walk(entry) for key, entry in item.items()}
        return item

    return walk(value)


@dataclass
class PeerActor:
    """An account on the peer: its document as served and the private key it signs with."""

    ap_id: str
    key_id: str
    private_pem: str
    document: dict[str, Any]

    @property
    def inbox(self) -> str:
        return str(self.document["inbox"])

    @property
    def username(self) -> str:
        return str(self.document["preferredUsername"])


@dataclass(frozen=True)
class Received:
    """One POST that reached an inbox of the peer, and whether its signature held."""

    path: str
    activity: dict[str, Any]
    key_id: str
    verified: bool


@dataclass
class Peer:
    """A remote server of one software's shape at https://<host>; see the module docstring."""

    host: str
    software_name: str = "mastodon"
    actors: dict[str, PeerActor] = field(default_factory=dict)  # by IRI
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # by IRI without fragment
    received: list[Received] = field(default_factory=list)
    fetches: list[tuple[str, bool]] = field(default_factory=list)  # (path, signed) of every GET
    http: httpx.AsyncClient | None = None
    _public_keys: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.software = SOFTWARE[self.software_name]
        self.origin = f"https://{self.host}"
        self.app = Starlette(routes=[
            Route("/.well-known/webfinger", self._webfinger),
            Route("/{path:path}", self._document, methods=["GET"]),
            Route("/{path:path}", self._inbox, methods=["POST"]),
        ])

    # ----------------------------------------------------------------------------------------- actors
    def add_actor(self, username: str, *, fixture: str | None = None, path: str | None = None,
                  **changes: Any) -> PeerActor:
        """Serve an actor rehosted from the software's actor fixture (or `fixture`), with a real key."""
        template = load_fixture(fixture or self.software.actor_fixture)
        ap_id = self.origin + (path or self.software.actor_path).format(name=username)
        old_id = str(template["id"])
        document = rehost(template, {old_id: ap_id, origin_of(old_id): self.origin})
        document["preferredUsername"] = username
        private_pem, public_pem = _fixture_key()
        key = document["publicKey"][0] if isinstance(document["publicKey"], list) else document["publicKey"]
        key.update(id=ap_id + self.software.key_suffix, owner=ap_id, publicKeyPem=public_pem)
        endpoints = document.get("endpoints")
        if isinstance(endpoints, dict) and "sharedInbox" in endpoints:
            endpoints["sharedInbox"] = self.origin + self.software.shared_inbox
        document.update(changes)
        actor = PeerActor(ap_id, key["id"], private_pem, document)
        self.actors[ap_id] = actor
        self.documents[ap_id] = document
        if self.software.key_suffix.startswith("/"):
            # GoToSocial serves the key at its own IRI as a stub of the actor (http_signatures.md, Quirks).
            self.documents[actor.key_id] = {
                "@context": ["https://w3id.org/security/v1", "https://www.w3.org/ns/activitystreams"],
                "id": ap_id, "preferredUsername": username, "publicKey": dict(key), "type": document["type"]}
        return actor

    def actor(self, ap_id: str | None = None) -> PeerActor:
        """The actor with this IRI, or the only/first one."""
        return self.actors[ap_id] if ap_id else next(iter(self.actors.values()))

    def handle(self, actor: PeerActor | None = None) -> str:
        return f"{(actor or self.actor()).username}@{self.host}"

    # ---------------------------------------------------------------------------------------- objects
    def serve(self, document: dict[str, Any]) -> dict[str, Any]:
        """Answer GETs of the document's id (it must live on this peer); returns the document."""
        object_id = str(document["id"])
        assert origin_of(object_id) == self.origin, f"{object_id} is not on {self.origin}"
        self.documents[object_id.split("#", 1)[0]] = document
        return document

    def forget(self, iri: str) -> None:
        """Answer 410 Gone from now on, as Mastodon does for a deleted status or account."""
        self.documents[iri.split("#", 1)[0]] = {}

    def adopt(self, fixture: str | dict[str, Any], mapping: Mapping[str, str] | None = None,
              *, origins: tuple[str, ...] = ()) -> dict[str, Any]:
        """A fixture moved onto this peer: the origin of its actor (and `origins`) become ours, and
        `mapping` points the IRIs it names on other servers at the city's (the followed, the liked)."""
        document = load_fixture(fixture) if isinstance(fixture, str) else fixture
        actor = document.get("actor") or document.get("attributedTo") or document["id"]
        actor_id = actor if isinstance(actor, str) else actor["id"]
        moved = {origin: self.origin for origin in (origin_of(actor_id), *origins)}
        result: dict[str, Any] = rehost(document, {**moved, **(mapping or {})})
        return result

    # --------------------------------------------------------------------------------------- delivery
    async def deliver(self, city: City, activity: dict[str, Any], actor: PeerActor | None = None,
                      *, inbox: str | None = None, now: datetime | None = None) -> httpx.Response:
        """POST the activity to the city's shared inbox (or `inbox`), signed as this software signs."""
        assert self.http is not None, "start the peer with start_peer()"
        sender = actor or self.actors.get(str(activity.get("actor"))) or self.actor()
        url = inbox or f"{city.settings.base_url}/inbox"
        body = self.software.dumps(activity).encode("utf-8")
        headers = self._signed_headers(url, body, sender, now or datetime.now(timezone.utc))
        return await self.http.post(url, content=body, headers=headers)

    def _signed_headers(self, url: str, body: bytes, sender: PeerActor, now: datetime) -> dict[str, str]:
        parts = urlsplit(url)
        values = {
            "host": parts.netloc, "date": format_datetime(now, usegmt=True),
            "digest": "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii"),
            "content-type": self.software.content_type, "content-length": str(len(body)),
            "user-agent": self.software.user_agent.format(host=self.host),
        }
        target = f"post {parts.path}" + (f"?{parts.query}" if parts.query else "")
        signed = self.software.signed_headers
        text = "\n".join(f"{name}: {target if name == '(request-target)' else values[name]}" for name in signed)
        signature = base64.b64encode(_private_key(sender.private_pem).sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()))
        params = {"keyId": sender.key_id, "algorithm": self.software.algorithm, "headers": " ".join(signed),
                  "signature": signature.decode("ascii")}
        headers = {name.title(): value for name, value in values.items() if name != "host"}
        headers["Host"] = values["host"]
        headers["Signature"] = ",".join(f'{name}="{params[name]}"' for name in self.software.param_order)
        return headers

    # -------------------------------------------------------------------------------------- endpoints
    async def _webfinger(self, request: Request) -> Response:
        resource = request.query_params.get("resource", "")
        wanted = resource.removeprefix("acct:")
        for actor in self.actors.values():
            if wanted in (f"{actor.username}@{self.host}", actor.ap_id):
                return JSONResponse({
                    "subject": f"acct:{actor.username}@{self.host}", "aliases": [actor.ap_id],
                    "links": [{"rel": "self", "type": ACTIVITY_JSON, "href": actor.ap_id}],
                }, media_type="application/jrd+json")
        return Response(status_code=404)

    async def _document(self, request: Request) -> Response:
        signed = "signature" in request.headers
        self.fetches.append((request.url.path, signed))
        if self.software.signed_fetch and not await self._verifies(request, b""):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        document = self.documents.get(self.origin + request.url.path)
        if document is None:
            return Response(status_code=404)
        if not document:
            return Response(status_code=410)
        return Response(self.software.dumps(document), media_type=ACTIVITY_JSON)

    async def _inbox(self, request: Request) -> Response:
        inboxes = {self.origin + self.software.shared_inbox} | {actor.inbox for actor in self.actors.values()}
        if self.origin + request.url.path not in inboxes:
            return Response(status_code=405)
        body = await request.body()
        verified = await self._verifies(request, body)
        key_id = _signature_params(request.headers.get("signature", "")).get("keyId", "")
        self.received.append(Received(request.url.path, json.loads(body), key_id, verified))
        return Response(status_code=202 if verified else 401)

    # ---------------------------------------------------------------------------------- verification
    async def _verifies(self, request: Request, body: bytes) -> bool:
        """Check a request's draft-cavage signature against the signer's published key."""
        params = _signature_params(request.headers.get("signature", ""))
        if not {"keyId", "headers", "signature"} <= params.keys():
            return False
        if request.method == "POST":
            expected = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
            if request.headers.get("digest") != expected:
                return False
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        lines = []
        for name in params["headers"].split():
            if name == "(request-target)":
                lines.append(f"(request-target): {request.method.lower()} {target}")
            elif name in request.headers:
                lines.append(f"{name}: {request.headers[name]}")
            else:
                return False
        public_pem = await self._public_key(params["keyId"])
        if public_pem is None:
            return False
        key = serialization.load_pem_public_key(public_pem.encode("ascii"))
        assert isinstance(key, rsa.RSAPublicKey)
        try:
            key.verify(base64.b64decode(params["signature"]), "\n".join(lines).encode("utf-8"),
                       padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True

    async def _public_key(self, key_id: str) -> str | None:
        if key_id not in self._public_keys:
            assert self.http is not None
            response = await self.http.get(key_id.split("#", 1)[0], headers={"Accept": ACTIVITY_JSON})
            if response.status_code != 200:
                return None
            keys = response.json().get("publicKey")
            for key in keys if isinstance(keys, list) else [keys]:
                if isinstance(key, dict) and key.get("id") == key_id:
                    self._public_keys[key_id] = str(key["publicKeyPem"])
        return self._public_keys.get(key_id)


@functools.lru_cache(maxsize=64)
def _private_key(private_pem: str) -> rsa.RSAPrivateKey:
    # Loading a PEM costs ~28 ms (DESIGN.md): once per key, not once per delivery.
    key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _signature_params(header: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


@asynccontextmanager
async def start_peer(fed: Federation, host: str, software: str = "mastodon") -> AsyncIterator[Peer]:
    """A peer of the given software at https://<host>, routed like the cities of `fed`."""
    peer = Peer(host, software)
    fed.router.add(host, peer.app)
    async with httpx.AsyncClient(transport=fed.router) as http:
        peer.http = http
        yield peer
