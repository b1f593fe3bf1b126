"""Filter, FilterKeyword, FilterStatus and FilterResult entities (docs.joinmastodon.org/entities/Filter)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.db import utcnow
from fedserver.local import filters
from fedserver.local.models.clients import Filter, FilterKeyword, FilterStatus
from fedserver.local.models.statuses import Status


def _time(moment: Any) -> str:
    return str(moment.strftime("%Y-%m-%dT%H:%M:%S.")) + f"{moment.microsecond // 1000:03d}Z"


def render_filter(item: Filter, keywords: Sequence[FilterKeyword] | None = None,
                  statuses: Sequence[FilterStatus] | None = None) -> dict[str, Any]:
    """A Filter; keywords and statuses only where the rules were asked for (the filters endpoints), as
    Mastodon leaves them out of the filter inside a FilterResult."""
    entity: dict[str, Any] = {
        "id": str(item.id), "title": item.title, "context": item.contexts.split(),
        "expires_at": _time(item.expires_at) if item.expires_at else None, "filter_action": item.action,
    }
    if keywords is not None:
        entity["keywords"] = [render_keyword(keyword) for keyword in keywords]
    if statuses is not None:
        entity["statuses"] = [render_filter_status(chosen) for chosen in statuses]
    return entity


def render_keyword(keyword: FilterKeyword) -> dict[str, Any]:
    return {"id": str(keyword.id), "keyword": keyword.keyword, "whole_word": keyword.whole_word}


def render_v1_filter(keyword: FilterKeyword, owner: Filter) -> dict[str, Any]:
    """A v1 Filter: one keyword of a v2 filter (Mastodon 4's REST::V1::FilterSerializer)."""
    return {"id": str(keyword.id), "phrase": keyword.keyword, "context": owner.contexts.split(),
            "whole_word": keyword.whole_word, "expires_at": _time(owner.expires_at) if owner.expires_at else None,
            "irreversible": owner.action == "hide"}


def render_filter_status(chosen: FilterStatus) -> dict[str, Any]:
    return {"id": str(chosen.id), "status_id": str(chosen.status_id)}


def render_result(result: filters.Match) -> dict[str, Any]:
    """A FilterResult: the filter, and the keywords or status ids that matched (null when none were asked)."""
    return {"filter": render_filter(result.filter), "keyword_matches": result.keyword_matches,
            "status_matches": [str(sid) for sid in result.status_matches] if result.status_matches is not None
            else None}


async def apply_filters(session: AsyncSession, account_id: int, context: str, statuses: Sequence[Status],
                        every: dict[int, Status], rendered: list[dict[str, Any]]) -> None:
    """Fill `filtered` of each rendered status (and of the original inside a boost) with the account's
    filters for this context; the matching itself is local.filters' rule."""
    active = await filters.active(session, account_id, context, now=utcnow())
    if not active:
        return
    for status, entity in zip(statuses, rendered):
        original = every.get(status.reblog_of_id) if status.reblog_of_id else None
        results = [render_result(match) for match in filters.match(active, status, original)]
        entity["filtered"] = results
        if entity.get("reblog"):
            entity["reblog"]["filtered"] = results


def is_hidden(entity: dict[str, Any]) -> bool:
    """A status that matched a filter whose action is `hide` is left out of the list it would be in."""
    return any(result["filter"]["filter_action"] == "hide" for result in entity.get("filtered") or [])
