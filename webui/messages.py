"""The services' refusals in the page's language: known ones by field and code (Invalid) or by code (NotAllowed),
others as the service wrote them."""
from __future__ import annotations

from typing import Protocol

from fedserver.local.errors import Invalid, LocalError, NotAllowed
from webui.i18n import N_


class Translator(Protocol):
    def gettext(self, message: str, **values: object) -> str: ...


# (field, code) of fedserver.local's Invalid -> an English msgid of our catalogue.
KNOWN = {
    ("username", "ERR_INVALID"): N_("A username has 1 to 30 characters: letters, digits and underscores only."),
    ("username", "ERR_TAKEN"): N_("This username is already taken."),
    ("username", "ERR_RESERVED"): N_("This username is reserved."),
    ("username", "ERR_BLANK"): N_("Please choose a username."),
    ("email", "ERR_INVALID"): N_("This is not an e-mail address."),
    ("email", "ERR_TAKEN"): N_("An account with this e-mail address exists already."),
    ("email", "ERR_BLANK"): N_("Please enter your e-mail address."),
    ("password", "ERR_TOO_SHORT"): N_("A password has at least 8 characters."),
    ("password", "ERR_TOO_LONG"): N_("This password is too long."),
    ("password", "ERR_BLANK"): N_("Please choose a password."),
    ("agreement", "ERR_ACCEPTED"): N_("Please accept the rules of the city."),
    ("current_password", "ERR_INVALID"): N_("The current password is wrong."),
    ("status", "ERR_BLANK"): N_("A post needs some text or an image."),
    ("status", "ERR_TOO_LONG"): N_("This post is too long."),
    ("spoiler_text", "ERR_TOO_LONG"): N_("This content warning is too long."),
    ("file", "ERR_UNSUPPORTED"): N_("Only JPEG, PNG, GIF and WebP images can be uploaded."),
    ("file", "ERR_TOO_LARGE"): N_("This image is too large."),
    ("file", "ERR_INVALID"): N_("This image is damaged and could not be read."),
    ("display_name", "ERR_TOO_LONG"): N_("A display name has at most 30 characters."),
    ("note", "ERR_TOO_LONG"): N_("A bio has at most 500 characters."),
    ("reason", "ERR_TOO_LONG"): N_("A reason has at most 1024 characters."),
    ("rules", "ERR_TOO_LONG"): N_("The rules have at most 5000 characters."),
    ("topic", "ERR_TOO_LONG"): N_("A topic has at most 64 characters."),
    ("join_mode", "ERR_INVALID"): N_("Please choose who may join."),
    ("posting_mode", "ERR_INVALID"): N_("Please choose who may post."),
    ("role", "ERR_INVALID"): N_("A role is admin or moderator."),
    ("account_id", "ERR_INVALID"): N_("Only residents of this city can run a group here."),
}

# code of fedserver.local's NotAllowed -> an English msgid of our catalogue.
REFUSALS = {
    "GROUP_STAFF_ONLY": N_("Only the group's admins and moderators may do this."),
    "GROUP_ADMINS_ONLY": N_("Only the group's admins may do this."),
    "GROUP_LAST_ADMIN": N_("A group needs at least one admin."),
    "GROUP_BAN_STAFF": N_("Take away the member's role before banning them."),
    "GROUP_RESIDENTS_ONLY": N_("Only residents of this city can found a group here."),
}


def translated(page: Translator, error: LocalError) -> str:
    """A message a person understands, in the page's language where we know the refusal."""
    if isinstance(error, Invalid) and (error.field, error.code) in KNOWN:
        return page.gettext(KNOWN[(error.field, error.code)])
    if isinstance(error, NotAllowed) and error.code in REFUSALS:
        return page.gettext(REFUSALS[error.code])
    return str(error) or page.gettext("Something was not right with the form.")
