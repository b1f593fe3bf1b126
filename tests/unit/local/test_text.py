"""Plain text -> HTML: escaping, links, mentions and hashtags."""
from __future__ import annotations

from fedserver.local.text import MentionTarget, mention_candidates, render_plain

BOB = MentionTarget("https://moers.test/users/bob", "bob", "https://moers.test/@bob")


def resolve(user: str, host: str | None) -> MentionTarget | None:
    return BOB if user.lower() == "bob" and host in (None, "moers.test") else None


def tag_url(name: str) -> str:
    return f"https://moers.test/tags/{name}"


def test_html_is_escaped() -> None:
    rendered = render_plain("<script>alert('x')</script> & more", resolve, tag_url)
    assert rendered.html == "<p>&lt;script&gt;alert('x')&lt;/script&gt; &amp; more</p>"


def test_paragraphs_and_line_breaks() -> None:
    assert render_plain("one\ntwo\n\nthree", resolve, tag_url).html == "<p>one<br>two</p><p>three</p>"


def test_links_stop_before_sentence_punctuation() -> None:
    html = render_plain("See https://moers.de/events.", resolve, tag_url).html
    assert '<a href="https://moers.de/events" rel="nofollow noopener noreferrer" target="_blank">' in html
    assert html.endswith("</a>.</p>")


def test_known_mention_is_linked_and_recorded() -> None:
    rendered = render_plain("Hallo @bob und @unknown!", resolve, tag_url)
    assert rendered.mentions == [BOB]
    assert 'href="https://moers.test/@bob" class="u-url mention">@<span>bob</span></a>' in rendered.html
    assert "@unknown!" in rendered.html


def test_hashtags_with_umlauts_are_linked_once() -> None:
    rendered = render_plain("#Grafschafter #Bücherei #grafschafter #2026", resolve, tag_url)
    assert rendered.tags == ["Grafschafter", "Bücherei"]
    assert 'href="https://moers.test/tags/bücherei"' in rendered.html
    assert "#2026" in rendered.html and "tags/2026" not in rendered.html


def test_email_addresses_are_not_mentions() -> None:
    assert mention_candidates("write to info@moers.de or @bob@moers.test") == [("bob", "moers.test")]
