"""The endpoint wrapper: what every API call does around its handler."""
from __future__ import annotations

from sqlalchemy import select

from fedserver.local import accounts
from fedserver.local.models.accounts import Account
from fedserver.local.models.oauth import AccessToken
from tests.api_clients import bearer, token_for
from tests.cities import City


async def test_read_call_records_when_the_token_and_account_were_last_used(moers: City) -> None:
    await moers.create_account("alice")
    token = await token_for(moers, "alice", "read")
    response = await moers.client.get("/api/v1/timelines/home", headers=bearer(token))
    assert response.status_code == 200, response.text
    async with moers.site.sessions() as session:
        used = (await session.scalars(select(AccessToken.last_used_at))).all()
        alice = await accounts.find_by_username(session, "alice")
        active = await session.scalar(select(Account.last_active_at).where(Account.id == alice.id))
    # A read call runs in a transaction that is rolled back: the use is recorded in one of its own.
    assert len(used) == 1 and used[0] is not None
    assert active == used[0]
