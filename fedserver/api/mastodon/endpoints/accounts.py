"""Accounts endpoints (docs.joinmastodon.org/methods/accounts)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from starlette.routing import Route

from fedserver.api.mastodon.call import Call, endpoint
from fedserver.api.mastodon.entities.account import render_account, source_of
from fedserver.local.models.interactions import PENDING, Follow


@endpoint(scope="read:accounts", user=True)
async def verify_credentials(call: Call) -> dict[str, Any]:
    """The signed-in account, with `source` (what they typed) for editing."""
    actor = call.me.actor
    requests = int(await call.session.scalar(select(func.count(Follow.id)).where(
        Follow.target_id == actor.id, Follow.state == PENDING)) or 0)
    entity = await render_account(call.session, call.site.urls, actor)
    entity["source"] = source_of(actor, language=call.me.locale, follow_requests_count=requests)
    return entity


ROUTES = [
    Route("/api/v1/accounts/verify_credentials", verify_credentials),
]
