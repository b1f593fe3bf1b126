"""The person in front of the browser: open an /oauth/authorize URL, sign in, approve, copy the code shown."""
from __future__ import annotations

from html.parser import HTMLParser

import httpx


class _Form(HTMLParser):
    """The consent form's inputs, and the code once it is shown."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, str] = {}
        self.action: str | None = None
        self.code: str | None = None
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.action = attributes.get("action")
        elif tag == "input" and attributes.get("name"):
            self.inputs[str(attributes["name"])] = attributes.get("value") or ""
        elif tag == "code" and attributes.get("id") == "authorization-code":
            self._in_code = True

    def handle_endtag(self, tag: str) -> None:
        self._in_code = self._in_code and tag != "code"

    def handle_data(self, data: str) -> None:
        if self._in_code:
            self.code = (self.code or "") + data.strip()


def approve_in_the_browser(login_url: str, username: str, password: str) -> str:
    """What a person does with a client's log-in URL: open it, sign in, approve, copy the out-of-band code."""
    with httpx.Client(timeout=10) as browser:  # keeps the CSRF cookie between the two requests
        page = browser.get(login_url)
        assert page.status_code == 200, page.text
        form = _Form()
        form.feed(page.text)
        assert form.action == "/oauth/authorize" and "csrf_token" in form.inputs, page.text
        answer = browser.post(str(page.url.join(form.action)), data={
            **form.inputs, "username": username, "password": password, "decision": "approve"})
    assert answer.status_code == 200, answer.text
    shown = _Form()
    shown.feed(answer.text)
    assert shown.code, answer.text
    return shown.code
