"""Every local model, imported so that Base.metadata knows all tables (Alembic reads it)."""
from fedserver.local.models.accounts import Account
from fedserver.local.models.actors import Actor, ActorKey
from fedserver.local.models.clients import (
    Announcement, AnnouncementRead, Filter, FilterKeyword, FilterStatus, IdempotencyKey, List, ListMember, Marker,
    ThreadMute,
)
from fedserver.local.models.events import Event
from fedserver.local.models.groups import GroupBan, GroupRole, GroupSettings
from fedserver.local.models.interactions import Block, Bookmark, DomainBlock, Follow, Like, Mute, Pin
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.notifications import Notification
from fedserver.local.models.oauth import AccessToken, AuthorizationCode, OAuthApp
from fedserver.local.models.places import Place
from fedserver.local.models.polls import Poll, PollOption, PollVote
from fedserver.local.models.scheduling import AccountNote, ScheduledStatus, ScheduledStatusMedia
from fedserver.local.models.shops import Offer, Product, Shop
from fedserver.local.models.streams import StreamEvent
from fedserver.local.models.statuses import Mention, Status, StatusEdit, StatusTag, Tag

__all__ = [
    "Announcement", "AnnouncementRead", "Filter", "FilterKeyword", "FilterStatus", "IdempotencyKey", "List",
    "ListMember", "Marker", "ThreadMute",
    "AccessToken", "Account", "Actor", "AuthorizationCode", "ActorKey", "Block", "Bookmark", "DomainBlock", "Event", "Follow", "GroupBan",
    "GroupRole", "GroupSettings", "Like", "MediaAttachment", "Mention", "Mute", "Notification", "OAuthApp", "Offer",
    "Pin", "Place", "Poll", "PollOption", "PollVote", "Product", "Shop", "Status", "StatusEdit", "StreamEvent",
    "StatusTag", "Tag", "AccountNote", "ScheduledStatus", "ScheduledStatusMedia",
]
