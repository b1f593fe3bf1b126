"""Readers for the awkward properties: one value or many, IRI or embedded object, text or map.

AS2 lets almost every property be a single value, a list, an IRI or an embedded object
(Activity Vocabulary 2, "Object or Link"); peers use all of these forms.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedserver.activitypub.errors import MalformedObject

_HTML = "text/html"
_UNDETERMINED = "und"  # BCP 47 "undetermined"; Pleroma sets it as @language (fixtures/pleroma)


def id_of(value: Any) -> str | None:
    """The IRI of a value: the string itself, the "id" of an embedded object, else None."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        inner = value.get("id")
        return inner if isinstance(inner, str) and inner else None
    return None


def require_id(doc: Mapping[str, Any]) -> str:
    """The document's own "id"; raises MalformedObject("id") when it has none."""
    ap_id = doc.get("id")
    if not isinstance(ap_id, str) or not ap_id:
        raise MalformedObject("id")
    return ap_id


def as_list(value: Any) -> list[Any]:
    """A property as a list: None is empty, a single value becomes a one-element list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def first(value: Any) -> Any:
    """The first of a property's values, or None."""
    values = as_list(value)
    return values[0] if values else None


def type_of(doc: Mapping[str, Any]) -> str | None:
    """The document's "type" as one string (the first one when a list is sent)."""
    for candidate in as_list(doc.get("type")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def text_and_language(doc: Mapping[str, Any], key: str) -> tuple[str | None, str | None]:
    """Read a natural-language property from key or keyMap, returning (text, language or None)."""
    value = doc.get(key)
    text, tagged = _plain(value), _language_of(value)
    language_map = doc.get(f"{key}Map")
    entries = (
        [(lang, v) for lang, v in language_map.items() if isinstance(v, str)]
        if isinstance(language_map, Mapping) else []
    )
    if text is None:
        if not entries:
            return None, None
        lang, text = entries[0]  # no plain value (Activity Vocabulary 4.2): first map entry
        return text, _known(lang)
    if tagged is not None or not entries:
        return text, tagged
    # Mastodon sends both content and contentMap {lang: same text} (fixtures/mastodon).
    for lang, mapped in entries:
        if mapped == text:
            return text, _known(lang)
    # A single map entry whose markup differs slightly still names the language.
    return text, _known(entries[0][0]) if len(entries) == 1 else None


def first_href(value: Any) -> str | None:
    """The first link target of a url-like property, preferring a text/html Link."""
    candidates: list[tuple[str, str | None]] = []
    for item in as_list(value):
        if isinstance(item, str) and item:
            candidates.append((item, None))
        elif isinstance(item, Mapping):
            target = item.get("href", item.get("url"))
            if isinstance(target, str) and target:
                media_type = item.get("mediaType")
                candidates.append((target, media_type if isinstance(media_type, str) else None))
            elif target is not None:  # an Image whose url is itself a Link or a list
                nested = first_href(target)
                if nested:
                    candidates.append((nested, None))
    for href, media_type in candidates:
        if media_type == _HTML:
            return href
    return candidates[0][0] if candidates else None


def iri_list(value: Any) -> tuple[str, ...]:
    """The IRIs of an addressing-like property; entries without an IRI are skipped."""
    iris = (id_of(item) for item in as_list(value))
    return tuple(iri for iri in iris if iri is not None)


def _plain(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("@value"), str):
        return str(value["@value"])  # a language-tagged value after JSON-LD processing
    return None


def _language_of(value: Any) -> str | None:
    if isinstance(value, Mapping) and isinstance(value.get("@language"), str):
        return _known(str(value["@language"]))
    return None


def _known(language: str) -> str | None:
    return None if not language or language == _UNDETERMINED else language
