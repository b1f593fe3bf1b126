"""Log-in timing: an unknown username or e-mail address costs the same argon2 verification as a wrong password,
so how long a refusal takes does not tell whether an account exists."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from fedserver.local import accounts, passwords
from tests.cities import PASSWORD, City


class VerifySpy:
    """The real hasher, noting which hash each verification was made against."""

    def __init__(self, real: PasswordHasher) -> None:
        self.real, self.verified = real, []

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return self.real.verify(password_hash, password)

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> VerifySpy:
    found = VerifySpy(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", found)
    return found


async def test_unknown_login_is_verified_against_the_dummy_hash(moers: City, spy: VerifySpy) -> None:
    await moers.create_account("alice")
    spy.verified.clear()
    async with moers.site.sessions() as session:
        assert await accounts.authenticate(session, "nobody", PASSWORD) is None
        assert await accounts.authenticate(session, "nobody@moers.test.example", PASSWORD) is None
    assert spy.verified == [passwords.dummy_hash()] * 2
    assert passwords.dummy_hash().startswith("$argon2id$")


async def test_wrong_password_is_verified_once_against_the_account_hash(moers: City, spy: VerifySpy) -> None:
    account = await moers.create_account("alice")
    spy.verified.clear()
    async with moers.site.sessions() as session:
        assert await accounts.authenticate(session, "alice", "wrong password") is None
        assert await accounts.authenticate(session, "alice", PASSWORD) is not None
    assert spy.verified == [account.password_hash] * 2


def test_the_dummy_hash_never_matches() -> None:
    assert passwords.verify_login(None, "") is False
    assert passwords.verify_login(None, passwords.dummy_hash()) is False
