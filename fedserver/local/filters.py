"""Filters (Mastodon's v2): keywords and chosen statuses that warn about or hide posts in named contexts."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import unescape

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.errors import Invalid, NotFound
from fedserver.local.models.clients import Filter, FilterKeyword, FilterStatus
from fedserver.local.models.statuses import Status
from fedserver.local.visibility import visible_to

CONTEXTS = ("home", "notifications", "public", "thread", "account")
ACTIONS = ("warn", "hide")


@dataclass
class Active:
    """One filter in force, compiled for matching."""

    filter: Filter
    pattern: re.Pattern[str] | None = None
    status_ids: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Match:
    """Why a status matched a filter (Mastodon's FilterResult)."""

    filter: Filter
    keyword_matches: list[str] | None
    status_matches: list[int] | None


def _contexts(values: Iterable[str]) -> str:
    chosen = [value.strip() for value in values if value.strip()]
    if not chosen or any(value not in CONTEXTS for value in chosen):
        raise Invalid("context", "ERR_INVALID", "Context is none or invalid")
    return " ".join(dict.fromkeys(chosen))


def _title(title: str | None) -> str:
    if not (title or "").strip():
        raise Invalid("title", "ERR_BLANK", "Title can't be blank")
    return (title or "").strip()[:255]


def _action(action: str | None) -> str:
    if action not in ACTIONS:
        raise Invalid("filter_action", "ERR_INCLUSION", f"'{action}' is not a valid filter_action")
    return action


def _keyword(keyword: str | None) -> str:
    if not (keyword or "").strip():
        raise Invalid("keyword", "ERR_BLANK", "Keyword can't be blank")
    return (keyword or "").strip()[:255]


async def create(session: AsyncSession, account_id: int, *, title: str | None, contexts: Sequence[str],
                 action: str | None = None, expires_at: datetime | None = None,
                 keywords: Sequence[tuple[str, bool]] = ()) -> Filter:
    """A new filter with its keywords; title and at least one valid context are required."""
    created = Filter(account_id=account_id, title=_title(title), contexts=_contexts(contexts),
                     action=_action(action or "warn"), expires_at=expires_at)
    session.add(created)
    await session.flush()
    for keyword, whole_word in keywords:
        session.add(FilterKeyword(filter_id=created.id, keyword=_keyword(keyword), whole_word=whole_word))
    await session.flush()
    return created


async def update(session: AsyncSession, changed: Filter, *, title: str | None = None,
                 contexts: Sequence[str] | None = None, action: str | None = None) -> Filter:
    """Change a filter's title, contexts or action; what is not given stays."""
    if title is not None:
        changed.title = _title(title)
    if contexts is not None:
        changed.contexts = _contexts(contexts)
    if action is not None:
        changed.action = _action(action)
    await session.flush()
    return changed


async def set_expiry(session: AsyncSession, changed: Filter, expires_at: datetime | None) -> None:
    """Let the filter run out at a moment, or never (None)."""
    changed.expires_at = expires_at
    await session.flush()


async def remove(session: AsyncSession, removed: Filter) -> None:
    """Delete a filter with its keywords and statuses."""
    await session.execute(delete(FilterKeyword).where(FilterKeyword.filter_id == removed.id))
    await session.execute(delete(FilterStatus).where(FilterStatus.filter_id == removed.id))
    await session.delete(removed)
    await session.flush()


async def find_own(session: AsyncSession, account_id: int, filter_id: int) -> Filter:
    """One of the account's filters; anyone else's is not found."""
    found = await session.scalar(select(Filter).where(Filter.id == filter_id, Filter.account_id == account_id))
    if found is None:
        raise NotFound("Record not found")
    return found


async def all_of(session: AsyncSession, account_id: int) -> list[Filter]:
    """Every filter of the account, oldest first, expired ones included (apps show them greyed)."""
    return list((await session.scalars(select(Filter).where(Filter.account_id == account_id)
                                       .order_by(Filter.id))).all())


async def rules_of(session: AsyncSession, filter_ids: Sequence[int]
                   ) -> tuple[dict[int, list[FilterKeyword]], dict[int, list[FilterStatus]]]:
    """Keywords and statuses of several filters, two queries in all."""
    keywords: dict[int, list[FilterKeyword]] = {fid: [] for fid in filter_ids}
    statuses: dict[int, list[FilterStatus]] = {fid: [] for fid in filter_ids}
    if filter_ids:
        for keyword in (await session.scalars(select(FilterKeyword).where(
                FilterKeyword.filter_id.in_(filter_ids)).order_by(FilterKeyword.id))).all():
            keywords[keyword.filter_id].append(keyword)
        for chosen in (await session.scalars(select(FilterStatus).where(
                FilterStatus.filter_id.in_(filter_ids)).order_by(FilterStatus.id))).all():
            statuses[chosen.filter_id].append(chosen)
    return keywords, statuses


async def add_keyword(session: AsyncSession, owner: Filter, keyword: str | None, whole_word: bool = True
                      ) -> FilterKeyword:
    """A keyword more for the filter."""
    added = FilterKeyword(filter_id=owner.id, keyword=_keyword(keyword), whole_word=whole_word)
    session.add(added)
    await session.flush()
    return added


async def find_own_keyword(session: AsyncSession, account_id: int, keyword_id: int) -> FilterKeyword:
    """A keyword of one of the account's filters."""
    found = await session.scalar(select(FilterKeyword).join(Filter, Filter.id == FilterKeyword.filter_id)
                                 .where(FilterKeyword.id == keyword_id, Filter.account_id == account_id))
    if found is None:
        raise NotFound("Record not found")
    return found


async def update_keyword(session: AsyncSession, changed: FilterKeyword, *, keyword: str | None = None,
                         whole_word: bool | None = None) -> FilterKeyword:
    """Change a keyword's text or whether it must match whole words."""
    if keyword is not None:
        changed.keyword = _keyword(keyword)
    if whole_word is not None:
        changed.whole_word = whole_word
    await session.flush()
    return changed


async def remove_keyword(session: AsyncSession, removed: FilterKeyword) -> None:
    """Delete one keyword."""
    await session.delete(removed)
    await session.flush()


async def add_status(session: AsyncSession, owner: Filter, status_id: int, viewer_id: int) -> FilterStatus:
    """Filter one status the viewer can see; each status goes into a filter once."""
    if await session.scalar(select(Status.id).where(Status.id == status_id, visible_to(viewer_id))) is None:
        raise NotFound("Record not found")
    taken = await session.scalar(select(FilterStatus.id).where(FilterStatus.filter_id == owner.id,
                                                               FilterStatus.status_id == status_id))
    if taken is not None:
        raise Invalid("status_id", "ERR_TAKEN", "Status has already been taken")
    added = FilterStatus(filter_id=owner.id, status_id=status_id)
    session.add(added)
    await session.flush()
    return added


async def find_own_status(session: AsyncSession, account_id: int, filter_status_id: int) -> FilterStatus:
    """A filtered status of one of the account's filters."""
    found = await session.scalar(select(FilterStatus).join(Filter, Filter.id == FilterStatus.filter_id)
                                 .where(FilterStatus.id == filter_status_id, Filter.account_id == account_id))
    if found is None:
        raise NotFound("Record not found")
    return found


async def remove_status(session: AsyncSession, removed: FilterStatus) -> None:
    """Stop filtering one status."""
    await session.delete(removed)
    await session.flush()


# --- filters v1: each one keyword of a v2 filter, as Mastodon 4 maps them ------------------------------------

async def keywords_with_filters(session: AsyncSession, account_id: int) -> list[tuple[FilterKeyword, Filter]]:
    """Every keyword of the account's filters with its filter, oldest first (what GET /api/v1/filters lists)."""
    rows = await session.execute(select(FilterKeyword, Filter).join(Filter, Filter.id == FilterKeyword.filter_id)
                                 .where(Filter.account_id == account_id).order_by(FilterKeyword.id))
    return [(keyword, owner) for keyword, owner in rows.all()]


async def find_own_v1(session: AsyncSession, account_id: int, keyword_id: int) -> tuple[FilterKeyword, Filter]:
    """A v1 filter: one keyword of the account's filters, with the filter it belongs to."""
    keyword = await find_own_keyword(session, account_id, keyword_id)
    owner = await session.get(Filter, keyword.filter_id)
    assert owner is not None  # the keyword was found through it
    return keyword, owner


async def create_v1(session: AsyncSession, account_id: int, *, phrase: str | None, contexts: Sequence[str],
                    irreversible: bool, whole_word: bool, expires_at: datetime | None) -> tuple[FilterKeyword, Filter]:
    """A v1 filter: a v2 filter titled with the phrase, holding the phrase as its one keyword."""
    if not (phrase or "").strip():
        raise Invalid("phrase", "ERR_BLANK", "Phrase can't be blank")
    owner = await create(session, account_id, title=phrase, contexts=contexts,
                         action="hide" if irreversible else "warn", expires_at=expires_at)
    return await add_keyword(session, owner, phrase, whole_word), owner


@dataclass(frozen=True)
class FilterChanges:
    """What a v1 update may change on the v2 filter; None leaves it, expires_at needs has_expiry."""

    phrase: str | None = None
    contexts: Sequence[str] | None = None
    irreversible: bool | None = None
    has_expiry: bool = False
    expires_at: datetime | None = None


async def update_v1(session: AsyncSession, keyword: FilterKeyword, owner: Filter, changes: FilterChanges, *,
                    whole_word: bool | None) -> None:
    """Change a v1 filter: the keyword, and the filter behind it only if that holds no other keyword
    (Mastodon refuses, as the change would reach the other keywords too)."""
    # The phrase is the keyword's only: Mastodon's v1 update leaves the filter's title as it was.
    await update_keyword(session, keyword, keyword=changes.phrase, whole_word=whole_word)
    contexts = _contexts(changes.contexts) if changes.contexts is not None else owner.contexts
    action = ("hide" if changes.irreversible else "warn") if changes.irreversible is not None else owner.action
    expires_at = changes.expires_at if changes.has_expiry else owner.expires_at
    if (contexts, action, expires_at) == (owner.contexts, owner.action, owner.expires_at):
        return
    others = await session.scalar(select(FilterKeyword.id).where(FilterKeyword.filter_id == owner.id,
                                                                 FilterKeyword.id != keyword.id).limit(1))
    if others is not None:
        raise Invalid("context", "ERR_INVALID", "These parameters cannot be changed from this application because "
                      "they apply to more than one filter keyword. Use a more recent application or the web interface.")
    owner.contexts, owner.action, owner.expires_at = contexts, action, expires_at
    await session.flush()


# --- applying filters ---------------------------------------------------------------------------------------

async def active(session: AsyncSession, account_id: int, context: str, *, now: datetime) -> list[Active]:
    """The account's unexpired filters that name the context, compiled; one query when there are none."""
    found = list((await session.scalars(select(Filter).where(
        Filter.account_id == account_id, or_(Filter.expires_at.is_(None), Filter.expires_at > now)))).all())
    found = [item for item in found if context in item.contexts.split()]
    if not found:
        return []
    keywords, statuses = await rules_of(session, [item.id for item in found])
    return [Active(filter=item, pattern=_pattern(keywords[item.id]),
                   status_ids={chosen.status_id for chosen in statuses[item.id]}) for item in found]


def _pattern(keywords: Sequence[FilterKeyword]) -> re.Pattern[str] | None:
    """One pattern per filter; whole words get \\b only where the keyword begins or ends with a word
    character (Mastodon's CustomFilterKeyword#to_regex)."""
    parts = []
    for item in keywords:
        escaped = re.escape(item.keyword)
        if item.whole_word:
            start = r"\b" if re.match(r"\w", item.keyword) else ""
            end = r"\b" if re.search(r"\w$", item.keyword) else ""
            escaped = f"{start}{escaped}{end}"
        parts.append(escaped)
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def match(filters: Sequence[Active], status: Status, original: Status | None = None) -> list[Match]:
    """The filters a status (or the original it boosts) matches, with what matched."""
    proper = original or status
    text = searchable_text(proper)
    results = []
    for item in filters:
        found = item.pattern.search(text) if item.pattern is not None else None
        keyword_matches = [found.group(0)] if found is not None else None
        status_matches = ([sid for sid in (status.id, status.reblog_of_id) if sid in item.status_ids]
                          if item.status_ids else None)
        if keyword_matches or status_matches:
            results.append(Match(filter=item.filter, keyword_matches=keyword_matches, status_matches=status_matches))
    return results


def searchable_text(status: Status) -> str:
    """The words a filter looks at: the content warning and the post's text without markup."""
    text = re.sub(r"<br\s*/?>|</p>\s*<p>", "\n", status.content_html or "")
    return f"{status.spoiler_text or ''}\n\n{unescape(re.sub(r'<[^>]+>', '', text))}"
