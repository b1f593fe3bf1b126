"""The real `toot` CLI (a test dependency) logs in to a real `fedserver serve` and posts.

toot offers two log-ins, and both are driven here: `login_cli` (the password grant) and `login`
(the out-of-band code: toot prints an /oauth/authorize URL, the person approves it in a browser
and types the code shown in `<code id="authorization-code">` back into toot). toot runs as a
subprocess with its own temporary HOME and XDG_CONFIG_HOME, so it never reads or writes the
config of whoever runs the tests.
"""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from tests.clients.consent import approve_in_the_browser
from tests.e2e.servers import Server, run_cli, serve

pytestmark = pytest.mark.e2e
PASSWORD = "long-password-1"
WAIT = 60.0  # seconds any toot command may take on a busy machine


@dataclass
class Toot:
    """The toot executable with a home of its own."""

    executable: str
    home: Path

    @property
    def env(self) -> dict[str, str]:
        # No inherited environment beyond PATH: no proxy, no config dir, no TOOT_* settings of the host.
        return {"PATH": os.environ.get("PATH", ""), "HOME": str(self.home),
                "XDG_CONFIG_HOME": str(self.home / ".config"), "BROWSER": "true", "LANG": "C.UTF-8"}

    def run(self, *args: str) -> str:
        done = subprocess.run([self.executable, "--no-color", *args], env=self.env, capture_output=True, text=True,
                              timeout=WAIT, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, f"toot {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        return done.stdout

    def config(self) -> dict[str, Any]:
        config = json.loads((self.home / ".config" / "toot" / "config.json").read_text())
        assert isinstance(config, dict)
        return config


@pytest.fixture
def toot(tmp_path: Path) -> Toot:
    executable = shutil.which("toot", path=str(Path(sys.executable).parent))
    assert executable, "toot is missing: it is in the test extra (bash scripts/setup installs it)"
    home = tmp_path / "toot-home"
    home.mkdir()
    return Toot(executable, home)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serve(tmp_path / "moers") as running:
        domain = running.base_url.removeprefix("http://")
        env = {"FEDSERVER_DATA_DIR": str(tmp_path / "moers"), "FEDSERVER_DOMAIN": domain, "FEDSERVER_HTTP": "1"}
        created = run_cli(["account", "create", "anna", "--email", "anna@example.org", "--password", PASSWORD], env)
        assert created.returncode == 0, created.stderr
        yield running


def _post_and_read_back(toot: Toot, server: Server, text: str) -> None:
    """`toot post`, then the status as the API serves it to toot's own token, and `toot timeline`."""
    posted = toot.run("post", text)
    match = re.search(rf"{re.escape(server.base_url)}/@anna/(\d+)", posted)
    assert match, posted
    [user] = toot.config()["users"].values()
    status = httpx.get(f"{server.base_url}/api/v1/statuses/{match[1]}", timeout=10,
                       headers={"Authorization": f"Bearer {user['access_token']}"}).json()
    assert status["account"]["acct"] == "anna" and status["visibility"] == "public"
    assert status["content"] == f"<p>{text}</p>"
    timeline = toot.run("timeline")
    assert text in timeline and "@anna" in timeline
    assert "Traceback" not in server.log()


def test_toot_login_cli_posts_and_reads_its_timeline(server: Server, toot: Toot) -> None:
    logged_in = toot.run("login_cli", "--instance", server.base_url, "--email", "anna@example.org",
                         "--password", PASSWORD)
    assert "Successfully logged in" in logged_in
    config = toot.config()
    domain = server.base_url.removeprefix("http://")
    assert list(config["users"]) == [f"anna@{domain}"] and config["active_user"] == f"anna@{domain}"
    assert config["apps"][domain]["base_url"] == server.base_url  # http kept: toot talks plain HTTP to loopback
    _post_and_read_back(toot, server, "Hallo Moers, hier spricht toot")


def test_toot_login_with_the_out_of_band_code_posts(server: Server, toot: Toot) -> None:
    with subprocess.Popen([toot.executable, "--no-color", "login", "--instance", server.base_url], env=toot.env,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdin is not None and process.stdout is not None
        lines, reader = _lines_of(process.stdout)
        try:
            login_url = _next_matching(lines, rf"^{re.escape(server.base_url)}/oauth/authorize/?\?\S+$")
            process.stdin.write("n\n")  # "Open link in default browser?": no, the test is the browser
            process.stdin.flush()
            code = approve_in_the_browser(login_url, "anna@example.org", PASSWORD)
            process.stdin.write(f"{code}\n")
            process.stdin.flush()
            assert process.wait(timeout=WAIT) == 0
        finally:
            if process.poll() is None:
                process.kill()
            reader.join(WAIT)  # the pipe is read to its end before Popen's exit closes it
    rest = []
    while not lines.empty():
        rest.append(lines.get_nowait() or "")
    assert any("Successfully logged in" in line for line in rest), rest
    _post_and_read_back(toot, server, "Angemeldet mit dem Code aus dem Browser")


def _lines_of(stream: IO[str]) -> tuple[queue.Queue[str | None], threading.Thread]:
    """Read a pipe in a thread, so that waiting for a line can be bounded (None marks the end)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    return lines, reader


def _next_matching(lines: queue.Queue[str | None], pattern: str) -> str:
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(f"toot printed no line matching {pattern} within {WAIT} s: {seen}") from None
        if line is None:
            raise AssertionError(f"toot ended without a line matching {pattern}: {seen}")
        seen.append(line)
        if re.match(pattern, line.strip()):
            return line.strip()
