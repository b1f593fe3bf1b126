"""The main navigation: one list, so that groups, events, shops and the directory each become one line here
(and one page module) when they arrive."""
from __future__ import annotations

from dataclasses import dataclass

from webui.i18n import N_


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str  # an English msgid: the layout passes it through gettext
    signed_in: bool  # shown only to residents who are signed in


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("/", N_("Start"), signed_in=False),
    NavItem("/home", N_("Home"), signed_in=True),
    NavItem("/notifications", N_("Notifications"), signed_in=True),
    NavItem("/bookmarks", N_("Bookmarks"), signed_in=True),
    NavItem("/groups", N_("Groups"), signed_in=False),
    NavItem("/search", N_("Search"), signed_in=True),
    NavItem("/settings", N_("Settings"), signed_in=True),
    # Next, each with its page module: "/events" (Veranstaltungen),
    # "/shops" (Geschäfte), "/directory" (Verzeichnis).
)


def items_for(signed_in: bool) -> list[NavItem]:
    return [item for item in NAVIGATION if signed_in or not item.signed_in]
