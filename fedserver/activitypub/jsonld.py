"""JSON-LD normalisation against bundled contexts: offline, cached, used only where needed.

pyld's expand+compact costs ~2.5 ms per activity (DESIGN.md), so familiar compact AS2 is read
directly and `needs_normalising` says when a document's @context could change what its keys
mean. Contexts are served from contexts/*.jsonld (SOURCES.md); any other URL counts as an
empty context and is never fetched.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Final, cast

from pyld import jsonld as pyld

from fedserver.activitypub import vocab
from fedserver.activitypub.errors import MalformedObject

_BUNDLED: Final = {
    vocab.AS_CONTEXT: "activitystreams.jsonld",
    vocab.SECURITY_CONTEXT: "security-v1.jsonld",
    "https://w3id.org/identity/v1": "identity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://join-lemmy.org/context.json": "lemmy.jsonld",
}
# Contexts that define no AS2 or security term, served as empty: FEP-2c59's webfinger
# context (webfinger, wf, xsd; referenced by contexts/litepub-0.1.jsonld) and Mastodon's
# namespace URL, which never served a document but which some servers list.
_HARMLESS: Final = frozenset({"https://purl.archive.org/socialweb/webfinger", vocab.TOOT[:-1]})
# Pleroma and Akkoma serve LitePub's context from every instance (fixtures/pleroma/actor.json).
_LITEPUB_SUFFIX: Final = "/schemas/litepub-0.1.jsonld"
_LITEPUB_FILE: Final = "litepub-0.1.jsonld"

# The extension terms our converters read, so that normalised documents use familiar keys
# (Mastodon's actor and note contexts, Lemmy's group term).
EXTENSION_TERMS: Final[dict[str, Any]] = {
    "toot": vocab.TOOT, "ostatus": vocab.OSTATUS, "schema": vocab.SCHEMA, "lemmy": vocab.LEMMY,
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive", "Hashtag": "as:Hashtag",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "discoverable": "toot:discoverable", "indexable": "toot:indexable",
    "blurhash": "toot:blurhash", "conversation": "ostatus:conversation",
    "PropertyValue": "schema:PropertyValue", "value": "schema:value",
    "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
}
_SECURITY_TERMS_READ: Final = frozenset({"publicKey", "owner", "publicKeyPem"})
COMPACT_CONTEXT: Final[list[Any]] = [vocab.AS_CONTEXT, vocab.SECURITY_CONTEXT, EXTENSION_TERMS]


def merge_contexts(contexts: Iterable[Any]) -> list[Any]:
    """One @context for a document whose embedded parts lose theirs: AS2 first, then the
    other URLs, then all inline terms merged into one object (as Mastodon serialises)."""
    urls: list[str] = [vocab.AS_CONTEXT]
    terms: dict[str, Any] = {}
    for context in contexts:
        for entry in context if isinstance(context, list) else [context]:
            if isinstance(entry, str) and entry not in urls:
                urls.append(entry)
            elif isinstance(entry, Mapping):
                terms.update(entry)
    return [*urls, terms] if terms else list(urls)


def normalise(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Expand and re-compact a document against AS2, security v1 and our extension terms."""
    options = {"documentLoader": load_document}
    try:
        expanded = pyld.expand(dict(doc), options)
        compacted = pyld.compact(_repair_expanded(expanded), COMPACT_CONTEXT, options)
    except pyld.JsonLdError as exc:
        raise MalformedObject("@context", f"JSON-LD processing failed: {exc}") from exc
    except RecursionError as exc:  # a hostile, absurdly deep document
        raise MalformedObject("@context", "document nested too deeply") from exc
    return cast(dict[str, Any], _tidy(compacted))


def needs_normalising(doc: Mapping[str, Any]) -> bool:
    """True when the document's @context could remap a term we read, or names an unknown URL."""
    context = doc.get("@context")
    if context is None:
        return False  # plain JSON (or an embedded object): read as compact AS2
    return _context_remaps(json.dumps(context, sort_keys=True))


def load_document(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader serving bundled contexts; unknown URLs get an empty context."""
    filename = _bundled_file(url)
    document = copy.deepcopy(_read(filename)) if filename else {"@context": {}}
    # tag "static" lets pyld keep the resolved context for the life of the process.
    return {"contextUrl": None, "documentUrl": url, "document": document, "tag": "static"}


def _bundled_file(url: str) -> str | None:
    if url.endswith(_LITEPUB_SUFFIX):
        return _LITEPUB_FILE
    return _BUNDLED.get(url)


@cache
def _read(filename: str) -> dict[str, Any]:
    text = resources.files("fedserver.activitypub").joinpath("contexts", filename).read_text(
        encoding="utf-8"
    )
    return cast(dict[str, Any], json.loads(text))


@lru_cache(maxsize=1024)
def _context_remaps(context_json: str) -> bool:
    """Cached by the @context value itself: most peers send the same few contexts."""
    return _remaps(json.loads(context_json), depth=0)


def _remaps(context: Any, depth: int) -> bool:
    if depth > 8:  # a context that includes itself: do not trust it
        return True
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, str):
            if entry in (vocab.AS_CONTEXT, vocab.SECURITY_CONTEXT) or entry in _HARMLESS:
                continue
            filename = _bundled_file(entry)
            if filename is None or _remaps(_read(filename).get("@context"), depth + 1):
                return True
        elif isinstance(entry, Mapping):
            if _rebinds_base_term(entry):
                return True
        else:  # null resets the active context, dropping every AS2 term
            return True
    return False


def _rebinds_base_term(definitions: Mapping[str, Any]) -> bool:
    """True when an inline context maps an AS2 term (or a security term we read) elsewhere."""
    prefixes = {**_base_prefixes(), **{
        term: value for term, value in definitions.items()
        if isinstance(value, str) and value.endswith(("#", "/"))
    }}
    base = _base_terms()
    for term, definition in definitions.items():
        if term.startswith("@") or term not in base:
            continue
        iri = definition.get("@id") if isinstance(definition, Mapping) else definition
        if not isinstance(iri, str) or _expand_iri(iri, prefixes) != base[term]:
            return True
    return False


@cache
def _base_prefixes() -> dict[str, str]:
    prefixes: dict[str, str] = {}
    for url in (vocab.AS_CONTEXT, vocab.SECURITY_CONTEXT):
        for term, value in _read(_BUNDLED[url])["@context"].items():
            if isinstance(value, str) and value.endswith(("#", "/")):
                prefixes[term] = value
    return prefixes


@cache
def _base_terms() -> dict[str, str]:
    """Every AS2 term, and the security terms we read, with the IRI each stands for."""
    terms: dict[str, str] = {}
    for url in (vocab.AS_CONTEXT, vocab.SECURITY_CONTEXT):
        for term, value in _read(_BUNDLED[url])["@context"].items():
            iri = value.get("@id") if isinstance(value, Mapping) else value
            if url == vocab.SECURITY_CONTEXT and term not in _SECURITY_TERMS_READ:
                continue  # e.g. Lemmy rebinds "expires", which no converter reads
            if isinstance(iri, str) and not term.startswith("@"):
                terms[term] = _expand_iri(iri, _base_prefixes())
    return terms


def _expand_iri(iri: str, prefixes: Mapping[str, str]) -> str:
    prefix, colon, suffix = iri.partition(":")
    if colon and prefix in prefixes and not suffix.startswith("//"):
        return prefixes[prefix] + suffix
    return iri


def _repair_expanded(value: Any) -> Any:
    """Fix two peer habits in the expanded tree before compaction.

    Lemmy's context maps sensitive to "as:sensitive" before AS2 defines the "as" prefix
    (contexts/lemmy.jsonld); JSON-LD keeps it as an IRI of scheme "as", which compaction
    rejects as confusable with the prefix: read it as the AS2 term it names. Pleroma sets
    "@language": "und" (fixtures/pleroma/actor.json); "undetermined" says nothing, and a
    language on every string would keep keys like publicKeyPem from compacting.
    """
    if isinstance(value, list):
        return [_repair_expanded(item) for item in value]
    if not isinstance(value, dict):
        return value
    fixed: dict[str, Any] = {}
    for key, item in value.items():
        if key == "@language" and item == "und":
            continue
        if key == "@type":  # a list on node objects, a string on value objects
            item = _as_iri(item) if isinstance(item, str) else [
                _as_iri(t) if isinstance(t, str) else t for t in item]
        fixed[_as_iri(key)] = _repair_expanded(item)
    return fixed


def _as_iri(iri: str) -> str:
    return vocab.AS_NAMESPACE + iri[3:] if iri.startswith("as:") else iri


def _tidy(value: Any) -> Any:
    """Give compacted output the spellings our readers expect.

    Undefined terms come back as "_:name" (AS2's "@vocab": "_:"): give them their plain
    names. IRIs compact to "as:Public": write the Public collection in full.
    """
    if isinstance(value, list):
        return [_tidy(item) for item in value]
    if isinstance(value, str):
        return vocab.PUBLIC if value == "as:Public" else value
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    for key, item in value.items():
        if key == "@context":
            result[key] = item
            continue
        plain = key[2:] if key.startswith("_:") and key[2:] not in value else key
        if key == "type":
            item = [_plain_term(t) for t in item] if isinstance(item, list) else _plain_term(item)
        result[plain] = _tidy(item)
    return result


def _plain_term(term: Any) -> Any:
    return term[2:] if isinstance(term, str) and term.startswith("_:") else term
