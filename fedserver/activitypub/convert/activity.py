"""Activity <-> JSON: the envelope around what an actor did (Activity Vocabulary 2.1).

An embedded object loses its own @context: its terms move to the activity's context, the
way Mastodon serialises Create{Note} (tests/fixtures/mobilizon/event.json came that way too).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedserver.activitypub import dates, extract, jsonld, vocab
from fedserver.activitypub.errors import MalformedObject
from fedserver.activitypub.shapes import Activity

_CORE_KEYS = frozenset(
    {"@context", "id", "type", "actor", "published", "to", "cc", "object", "target", "audience"}
)


def render_activity(activity: Activity) -> dict[str, Any]:
    """Write an activity; extra keys are added after the core ones and never replace them."""
    obj: Any = activity.object
    context: list[Any] = [vocab.AS_CONTEXT]
    if isinstance(obj, dict):
        context = jsonld.merge_contexts([obj.get("@context")])
        obj = {key: value for key, value in obj.items() if key != "@context"}
    doc: dict[str, Any] = {
        "@context": context, "id": activity.ap_id, "type": activity.type,
        "actor": activity.actor,
        "published": dates.format(activity.published) if activity.published else None,
        "to": list(activity.to) or None, "cc": list(activity.cc) or None,
        "object": obj, "target": activity.target, "audience": activity.audience,
    }
    rendered = {key: value for key, value in doc.items() if value is not None}
    for key, value in activity.extra.items():
        rendered.setdefault(key, value)
    return rendered


def parse_activity(doc: Mapping[str, Any]) -> Activity:
    """Read an activity; raises MalformedObject for a missing id, type, actor or object."""
    ap_id = extract.require_id(doc)
    activity_type = extract.type_of(doc)
    if activity_type is None:
        raise MalformedObject("type")
    actor = extract.id_of(doc.get("actor"))
    if actor is None:
        raise MalformedObject("actor")
    obj = extract.first(doc.get("object"))
    if isinstance(obj, Mapping):
        obj = dict(obj)
    elif not isinstance(obj, str) or not obj:
        raise MalformedObject("object")
    return Activity(
        ap_id=ap_id, type=activity_type, actor=actor, object=obj,
        to=extract.iri_list(doc.get("to")), cc=extract.iri_list(doc.get("cc")),
        published=dates.parse(doc, "published"),
        target=extract.id_of(doc.get("target")), audience=extract.id_of(doc.get("audience")),
        extra={key: value for key, value in doc.items() if key not in _CORE_KEYS},
    )

