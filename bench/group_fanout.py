"""Group fan-out: the time for a group to relay one member's post to 1,000 members on 20 instances.

    .venv/bin/python bench/group_fanout.py                   # about 10 s
    .venv/bin/python bench/group_fanout.py --members 1000 --servers 20 --posts 3

A city is built in-process (as bench/fanout.py builds it); the group `treff` is founded with
fedserver.local.groups.create, gets --members remote members spread over --servers instances (accepted
Follow rows, one shared inbox per instance), and a local member posts into it by mentioning it
(fedserver.local.statuses.create: the post, the group's check, its boost row and the Announce with one
delivery row per shared inbox). Then fedserver.outbox.worker.drain() sends the Announces to in-process
receivers routed by host (tests/federation/cities.py routes cities the same way). CPU (time.process_time)
and wall (perf_counter) are reported for posting and for sending.

The reference, measured in the same run: a person with the same 1,000 followers on the same 20 instances
posts one status (a plain Create, same fan-out). The ratio shows what the group relay adds.
Everything stays in-process and every loop is bounded; the exit code is non-zero only when the benchmark
could not run (a receiver missing its POST counts as that).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))   # run from anywhere: fedserver and bench import

import httpx  # noqa: E402

from bench.documents import BenchError  # noqa: E402
from bench.fanout import Router, TinyInbox, _city  # noqa: E402
from bench.http_clients import run_async, warn_if_busy  # noqa: E402
from fedserver.activitypub.shapes import Actor as ActorShape  # noqa: E402
from fedserver.db import utcnow  # noqa: E402
from fedserver.local import accounts, actors, groups, statuses  # noqa: E402
from fedserver.local.models.interactions import ACCEPTED, Follow  # noqa: E402
from fedserver.outbox import worker as delivery_worker  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1000, help="remote members of the group (default 1000)")
    parser.add_argument("--servers", type=int, default=20, help="instances they live on (default 20)")
    parser.add_argument("--posts", type=int, default=3, help="posts measured, the median is reported (default 3)")
    args = parser.parse_args(argv)
    if args.members < args.servers or args.servers < 1 or args.posts < 1:
        parser.error("need --members >= --servers >= 1 and --posts >= 1")
    warn_if_busy()
    try:
        with tempfile.TemporaryDirectory(prefix="fedserver-group-bench-") as data_dir:
            results = run_async(_run(Path(data_dir), args), "asyncio")
    except BenchError as exc:
        print(f"group fan-out benchmark failed: {exc}", file=sys.stderr)
        return 1
    _report(results, args)
    return 0


async def _run(data_dir: Path, args: argparse.Namespace) -> dict[str, list[tuple[float, float, float, int]]]:
    hosts = [f"h{number:02d}.bench" for number in range(args.servers)]
    receivers = {host: TinyInbox() for host in hosts}
    async with httpx.AsyncClient(transport=Router(receivers)) as http, _city(data_dir, http) as app:
        group, member, person = await _setup(app, hosts, args.members)
        results: dict[str, list[tuple[float, float, float, int]]] = {"group": [], "person": []}
        for number in range(args.posts):
            results["person"].append(await _post_and_drain(app, person, f"Nachricht {number}"))
            results["group"].append(await _post_and_drain(app, member, f"@treff Flohmarkt {number}"))
        expected = 2 * args.posts
        if any(receiver.posts != expected for receiver in receivers.values()):
            raise BenchError("a receiver did not get exactly one POST per post")
        return results


async def _setup(app: Any, hosts: list[str], members: int) -> tuple[Any, Any, Any]:
    """The group with its members, a local member who posts, and a person with the same followers."""
    site, now = app.state.site, utcnow()
    async with site.sessions() as session, session.begin():
        made = {}
        for name in ("alice", "bob", "paula"):
            made[name] = (await accounts.create(session, site.urls, username=name, email=f"{name}@moers.example",
                                                password="long-password-123", now=now)).actor
        group = await groups.create(session, site.urls, made["alice"], "treff", groups.SettingsChange(), now=now)
        session.add(Follow(follower_id=made["bob"].id, target_id=group.id, state=ACCEPTED, created_at=now))
        for number in range(members):
            host = hosts[number % len(hosts)]
            ap_id = f"https://{host}/users/m{number:04d}"
            shape = ActorShape(ap_id=ap_id, type="Person", preferred_username=f"m{number:04d}",
                               inbox=f"{ap_id}/inbox", shared_inbox=f"https://{host}/inbox",
                               followers=f"{ap_id}/followers")
            member = await actors.store_remote(session, shape, now=now)
            for target in (group, made["paula"]):
                session.add(Follow(follower_id=member.id, target_id=target.id, state=ACCEPTED,
                                   ap_id=f"{ap_id}#follows/{target.username}", created_at=now))
    return group, made["bob"], made["paula"]


async def _post_and_drain(app: Any, author: Any, text: str) -> tuple[float, float, float, int]:
    """(post CPU, send CPU, send wall, deliveries) for one post."""
    site = app.state.site
    cpu = time.process_time()
    async with site.sessions() as session, session.begin():
        await statuses.create(session, site.urls, author, text, now=utcnow())
    post_cpu = time.process_time() - cpu
    cpu, started = time.process_time(), time.perf_counter()
    made = await delivery_worker.drain(app.state.delivery, utcnow())
    return post_cpu, time.process_time() - cpu, time.perf_counter() - started, made


def _report(results: dict[str, list[tuple[float, float, float, int]]], args: argparse.Namespace) -> None:
    def median(name: str, index: int) -> float:
        return statistics.median(row[index] for row in results[name])

    print(f"group fan-out: one post to {args.members} members on {args.servers} instances "
          f"(median of {args.posts}; in-process receivers)")
    for label, index in (("post (CPU: store, check, boost, Announce + delivery rows)", 0),
                         ("send (CPU of outbox drain)", 1), ("send (wall of outbox drain)", 2)):
        group, person = median("group", index), median("person", index)
        ratio = group / person if person else float("nan")
        print(f"  {label:58s} group {group * 1000:8.1f} ms   person {person * 1000:8.1f} ms   ratio {ratio:5.2f}")
    total = median("group", 0) + median("group", 2)
    print(f"  deliveries per post: group {int(median('group', 3))}, person {int(median('person', 3))}"
          f" (one per shared inbox)")
    print(f"  total for the group (post CPU + send wall): {total * 1000:.1f} ms")


if __name__ == "__main__":
    raise SystemExit(main())
