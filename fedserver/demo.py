"""A small demo city (Moers): the city, residents, a club and a shop, with public posts.

Seeded by `fedserver serve --demo` on first start only, in one transaction. The voice follows
the press articles the project started from (../shared/seeds/).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fedserver.db import utcnow
from fedserver.local import accounts, statuses
from fedserver.local.models.accounts import Account
from fedserver.local.urls import LocalUrls

DEMO_PASSWORD = "moers-demo-2026"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    kind: str
    bio: str
    posts: tuple[str, ...]
    is_admin: bool = False


DEMO_ACCOUNTS = (
    DemoAccount("stadt_moers", "Stadt Moers", "city", "Offizielle Informationen der Stadt Moers.", (
        "Willkommen im sozialen Netzwerk der Stadt Moers! Hier tauschen sich Bürgerinnen und Bürger, Vereine "
        "und Geschäfte aus – ohne Algorithmus, der entscheidet, was Sie sehen. #Moers",
        "Ihre Daten bleiben auf dem Server der Stadt. Und wenn Sie sie löschen, sind sie auch tatsächlich weg. "
        "#Datenschutz #Moers",
    ), is_admin=True),
    DemoAccount("moers_marketing", "MoersMarketing", "business", "Stadtmarketing für Moers.", (
        "Bitte immer zuerst in Moers schauen: Viele Geschäfte der Innenstadt zeigen hier ihre Angebote. "
        "#Einkaufen #Moers",
    )),
    DemoAccount("buchhandlung_am_markt", "Buchhandlung am Markt", "business", "Bücher, Karten und Kaffee am Altmarkt.", (
        "Neu eingetroffen: Krimis vom Niederrhein. Diese Woche mit 10 % Rabatt im Laden und online. "
        "#Angebot #Einkaufen",
    )),
    DemoAccount("tv_moers", "Turnverein Moers 1860", "club", "Sport für alle Generationen.", (
        "Am Samstag ist Tag der offenen Tür in der Sporthalle an der Filder Straße. Kommt vorbei! "
        "#Sport #Vereine #Moers",
    )),
    DemoAccount("anna", "Anna", "resident", "Wohnt im Schlosspark-Viertel.", (
        "Was für ein schöner Abend im Schlosspark! #Moers #Kultur",
        "Weiß jemand, wann der Wochenmarkt am Neumarkt wieder öffnet? #Moers",
    )),
    DemoAccount("jonas", "Jonas", "resident", "Radfahrer, Kaffeetrinker.", (
        "Die neue Radroute am Moersbach ist fertig – endlich! #Radfahren #Moers",
    )),
)


async def seed_if_empty(sessions: async_sessionmaker[AsyncSession], urls: LocalUrls) -> list[DemoAccount]:
    """Create the demo accounts and posts unless the instance has accounts already."""
    async with sessions() as session, session.begin():
        if int(await session.scalar(select(func.count(Account.id))) or 0) > 0:
            return []
        start = utcnow() - timedelta(hours=len(DEMO_ACCOUNTS) * 2)
        moment = start
        for demo in DEMO_ACCOUNTS:
            account = await accounts.create(
                session, urls, username=demo.username, email=f"{demo.username}@demo.invalid",
                password=DEMO_PASSWORD, kind=demo.kind, role="admin" if demo.is_admin else "user",
                display_name=demo.display_name, now=moment,
            )
            account.actor.summary_html = f"<p>{demo.bio}</p>"
            for text in demo.posts:
                moment += timedelta(minutes=17)
                await statuses.create(session, urls, account.actor, text, language="de", now=moment)
    return list(DEMO_ACCOUNTS)


def login_lines(seeded: list[DemoAccount], urls: LocalUrls) -> list[str]:
    """What the server prints so a newcomer can log in to the demo."""
    lines = [f"Demo city seeded at {urls.base_url} — log in with any of these (password {DEMO_PASSWORD!r}):"]
    lines += [f"  {demo.username}@demo.invalid  ({demo.display_name}, {demo.kind})" for demo in seeded]
    return lines
