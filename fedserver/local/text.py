"""Plain text as a resident typed it -> safe HTML with links, @mentions and #hashtags (Mastodon's markup)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

# One pass over the raw text; whatever no pattern claims is escaped as text.
_TOKEN = re.compile(
    r"(?P<url>\bhttps?://[^\s<>\"']+)"
    r"|(?<![\w/@])@(?P<user>[A-Za-z0-9_]{1,30})(?:@(?P<host>[A-Za-z0-9.-]+\.?[A-Za-z0-9-]*(?::\d{1,5})?))?"
    r"|(?<![\w&/#])#(?P<tag>\w{0,99}[^\W\d_]\w{0,99})"
)
_TRAILING = ".,;:!?)]}'\""  # punctuation that ends a sentence rather than a URL


@dataclass(frozen=True)
class MentionTarget:
    """A mentioned actor as the renderer needs it: the handle shown and where the link goes."""

    actor_ap_id: str
    username: str
    profile_url: str


@dataclass
class RenderedText:
    html: str
    mentions: list[MentionTarget] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # as typed, without '#', de-duplicated case-insensitively


MentionResolver = Callable[[str, str | None], MentionTarget | None]


def render_plain(text: str, resolve_mention: MentionResolver, tag_url: Callable[[str], str]) -> RenderedText:
    """Escape everything, then link URLs, known mentions and hashtags; paragraphs at blank lines."""
    result = RenderedText(html="")
    paragraphs = [part for part in re.split(r"\n\s*\n", text.strip().replace("\r\n", "\n")) if part.strip()]
    rendered = []
    for paragraph in paragraphs:
        lines = [_render_line(line, resolve_mention, tag_url, result) for line in paragraph.split("\n")]
        rendered.append("<p>" + "<br>".join(lines) + "</p>")
    result.html = "".join(rendered)
    return result


def _render_line(line: str, resolve: MentionResolver, tag_url: Callable[[str], str], result: RenderedText) -> str:
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(line):
        out.append(escape(line[position : match.start()], quote=False))
        out.append(_render_token(match, resolve, tag_url, result))
        position = match.end() - _trimmed_length(match)
    out.append(escape(line[position:], quote=False))
    return "".join(out)


def _trimmed_length(match: re.Match[str]) -> int:
    if match.group("url") is None:
        return 0
    url = match.group("url")
    return len(url) - len(_trim_url(url))


def _trim_url(url: str) -> str:
    while url and url[-1] in _TRAILING:
        # Keep a closing parenthesis that closes one inside the URL (Wikipedia links).
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _render_token(match: re.Match[str], resolve: MentionResolver, tag_url: Callable[[str], str], result: RenderedText) -> str:
    if match.group("url") is not None:
        url = _trim_url(match.group("url"))
        return f'<a href="{escape(url)}" rel="nofollow noopener noreferrer" target="_blank">{escape(url, quote=False)}</a>'
    if match.group("user") is not None:
        target = resolve(match.group("user"), match.group("host"))
        if target is None:  # unknown account: leave the text as typed
            return escape(match.group(0), quote=False)
        if target not in result.mentions:
            result.mentions.append(target)
        return (
            f'<span class="h-card" translate="no"><a href="{escape(target.profile_url)}" class="u-url mention">'
            f"@<span>{escape(target.username, quote=False)}</span></a></span>"
        )
    tag = match.group("tag")
    if tag.lower() not in (known.lower() for known in result.tags):
        result.tags.append(tag)
    return (
        f'<a href="{escape(tag_url(tag.lower()))}" class="mention hashtag" rel="tag">'
        f"#<span>{escape(tag, quote=False)}</span></a>"
    )


def mention_candidates(text: str) -> list[tuple[str, str | None]]:
    """Every (username, host) the text mentions, in order, so the caller can look them up first."""
    found: list[tuple[str, str | None]] = []
    for match in _TOKEN.finditer(text):
        if match.group("user") is not None:
            candidate = (match.group("user"), match.group("host"))
            if candidate not in found:
                found.append(candidate)
    return found
