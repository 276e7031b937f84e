"""Load on the real airlock through the hub: researchers submitting, reviewers deciding.

Starts a real local node in a temporary directory as the hub tests do (tests/hub/node.py:
JupyterHub, configurable-http-proxy, and the airlock service the hub starts), creates 20
researchers and 4 reviewers with their own hub API tokens, and for ``--minutes`` lets them
work over HTTP through the proxy:

- each researcher makes a request, writes a small table into their workspace, adds it, submits
  it, now and then lists their requests, downloads a released file and resubmits a returned
  request;
- each reviewer takes the oldest requests in the queue, opens one and a file's contents, and
  approves (mostly), returns or rejects it. Two approvals release a request (a signed bundle).

It prints requests per second, p50/p99 latency per kind of call and overall (with the load
average: the machine may be shared), and the errors
(5xx, failed connections, unexpected 4xx; a 409 when two reviewers race for one request is
counted apart). Then it checks that every request it made is in the airlock's database in a
status one of its answers reported, that every successful call left its audit entry, that
every released request's bundle verifies, and that ``tresor airlock audit verify`` passes.
Exit 1 if any check fails or any error was seen.

    .venv/bin/python benchmarks/bench_airlock_load.py                # a short smoke run
    .venv/bin/python benchmarks/bench_airlock_load.py --minutes 3
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PROJECT = "nordic-gwas"
TABLE = "variant,ALT_CT,OBS_CT\n1:{n}:A:G,{a},600\n1:{m}:C:T,{b},600\n"
#: what a reviewer decides, with weights
DECISIONS = [("approve", 85), ("return", 10), ("reject", 5)]
#: a successful call -> the audit entry it leaves (one each)
AUDITED = {
    "create": "request_created",
    "add_file": "file_added",
    "submit": "request_submitted",
    "decide": "review_decision",
    "view": "file_viewed",
    "download": "file_downloaded",
}


class Recorder:
    """Every call's kind, status and latency; every status a request was reported in."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = collections.defaultdict(list)
        self.codes: collections.Counter = collections.Counter()
        self.ok: collections.Counter = collections.Counter()
        self.errors: list[str] = []
        self.conflicts = 0
        self.seen: dict[str, set[str]] = collections.defaultdict(set)

    def call(self, client: httpx.Client, kind: str, method: str, path: str, **kw):
        start = time.perf_counter()
        try:
            r = client.request(method, path, **kw)
        except httpx.HTTPError as e:
            with self.lock:
                self.errors.append(f"{kind} {method} {path}: {e!r}")
            return None
        elapsed = time.perf_counter() - start
        with self.lock:
            self.latency[kind].append(elapsed)
            self.codes[r.status_code] += 1
            if r.status_code < 300:
                self.ok[kind] += 1
            elif r.status_code == 409:
                self.conflicts += 1
            else:
                self.errors.append(f"{kind} {method} {path}: {r.status_code} {r.text[:200]}")
        return r

    def status(self, body: dict) -> None:
        with self.lock:
            self.seen[body["id"]].add(body["status"])


def researcher(node, name: str, token: str, rec: Recorder, stop: threading.Event) -> None:
    workspace = node.state_dir / "workspaces" / name
    rng = random.Random(name)
    with _client(node, token) as client:
        n = 0
        while not stop.is_set():
            n += 1
            r = rec.call(client, "create", "POST", "/requests", json={"project": PROJECT})
            if r is None or r.status_code != 201:
                continue
            rec.status(r.json())
            rid = r.json()["id"]
            relative = f"results/{rid}.csv"
            (workspace / "results").mkdir(parents=True, exist_ok=True)
            (workspace / relative).write_text(
                TABLE.format(n=n, m=n + 1, a=rng.randint(20, 90), b=rng.randint(20, 90))
            )
            body = {
                "path": relative,
                "description": "allele counts of two variants",
                "disclosure_control": "every count is at least 10",
            }
            r = rec.call(client, "add_file", "POST", f"/requests/{rid}/files", json=body)
            if r is None or r.status_code != 201:
                continue
            r = rec.call(client, "submit", "POST", f"/requests/{rid}/submit")
            if r is not None and r.status_code == 200:
                rec.status(r.json())
            if n % 5 == 0:
                follow_up(client, rec)


def follow_up(client: httpx.Client, rec: Recorder) -> None:
    """List my requests; resubmit one that was returned, download one that was released."""
    r = rec.call(client, "list", "GET", "/requests")
    if r is None or r.status_code != 200:
        return
    mine = r.json()
    for kind, status in (("resubmit", "returned"), ("download", "released")):
        chosen = next((q for q in mine if q["status"] == status), None)
        if chosen is None:
            continue
        rid = chosen["id"]
        if kind == "resubmit":
            r = rec.call(client, "submit", "POST", f"/requests/{rid}/submit")
            if r is not None and r.status_code == 200:
                rec.status(r.json())
            continue
        detail = rec.call(client, "get", "GET", f"/requests/{rid}")
        if detail is not None and detail.status_code == 200 and detail.json()["files"]:
            fid = detail.json()["files"][0]["id"]
            rec.call(client, "download", "GET", f"/requests/{rid}/files/{fid}/download")


def reviewer(node, name: str, token: str, rec: Recorder, stop: threading.Event) -> None:
    rng = random.Random(name)
    choices, weights = zip(*DECISIONS, strict=True)
    with _client(node, token) as client:
        while not stop.is_set():
            r = rec.call(client, "queue", "GET", "/queue")
            if r is None or r.status_code != 200:
                continue
            waiting = r.json()["requests"][:8]
            if not waiting:
                time.sleep(0.2)
                continue
            rid = rng.choice(waiting)["id"]
            detail = rec.call(client, "get", "GET", f"/requests/{rid}")
            if detail is None or detail.status_code != 200:
                continue
            rec.status(detail.json())
            if not detail.json()["abilities"]["can_review"]:
                continue
            fid = detail.json()["files"][0]["id"]
            rec.call(client, "view", "GET", f"/requests/{rid}/files/{fid}/content")
            decision = rng.choices(choices, weights)[0]
            body = {"decision": decision}
            if decision != "approve":
                body["reason"] = f"{decision}: please round the counts"
            r = rec.call(client, "decide", "POST", f"/requests/{rid}/reviews", json=body)
            if r is not None and r.status_code == 200:
                rec.status(r.json())


def _client(node, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{node.url}services/airlock/api",
        headers={"Authorization": f"token {token}"},
        timeout=120,
    )


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def report(rec: Recorder, seconds: float, researchers: int, reviewers: int) -> None:
    calls = sum(len(v) for v in rec.latency.values())
    server_errors = sum(n for code, n in rec.codes.items() if code >= 500)
    print(
        f"\nairlock under load: {researchers} researchers, {reviewers} reviewers, "
        f"{seconds:.0f} s, every call through the hub's proxy with the user's hub token"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (it may be shared)")
    print(
        f"calls: {calls} ({calls / seconds:.1f} per second); 5xx: {server_errors}; "
        f"errors: {len(rec.errors)}; 409 races: {rec.conflicts}"
    )
    print(f"{'call':<10}{'n':>8}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    everything = [x for v in rec.latency.values() for x in v]
    for kind, values in [*sorted(rec.latency.items()), ("all", everything)]:
        print(
            f"{kind:<10}{len(values):>8}{percentile(values, 50) * 1000:>10.1f}"
            f"{percentile(values, 99) * 1000:>10.1f}{max(values, default=0) * 1000:>10.1f}"
        )
    for line in rec.errors[:20]:
        print(f"error: {line}")


def account(node, rec: Recorder) -> list[str]:
    """Every request made is in the database, in a status an answer reported; every
    successful call left its audit entry; released bundles and the audit log verify."""
    from airlock import bundles
    from airlock.config import Settings
    from airlock.db.data_access import DataAccess
    from airlock.db.engine import make_engine

    settings = Settings.from_site(node.site)
    engine = make_engine(settings.database_url)
    try:
        with DataAccess(engine).read() as r:
            stored = {q.id: q for q in r.list_requests()}
            entries = r.audit_entries()
    finally:
        engine.dispose()
    problems = []
    if missing := set(rec.seen) - set(stored):
        problems.append(f"{len(missing)} requests the benchmark made are not in the database")
    if extra := set(stored) - set(rec.seen):
        problems.append(f"{len(extra)} requests in the database were not made by the benchmark")
    for rid, request in stored.items():
        if rid in rec.seen and request.status.value not in rec.seen[rid]:
            problems.append(
                f"request {rid} is {request.status.value}; answers said {sorted(rec.seen[rid])}"
            )
    by_type = collections.Counter(e.type for e in entries)
    for kind, entry_type in AUDITED.items():
        if by_type[entry_type] != rec.ok[kind]:
            problems.append(
                f"{rec.ok[kind]} successful {kind} calls but {by_type[entry_type]} "
                f"{entry_type} audit entries"
            )
    statuses = collections.Counter(q.status.value for q in stored.values())
    public_key = bundles.load_public_key(settings.public_key_path)
    released = [q for q in stored.values() if q.status.value == "released"]
    for q in released:
        bundle = bundles.verify_bundle(settings.outbox_dir / q.bundle_name, public_key)
        if not bundle.ok:
            problems.append(f"bundle of {q.id}: {bundle.problems}")
    if by_type["request_released"] != len(released):
        problems.append(f"{len(released)} released, {by_type['request_released']} audited")
    env = {**os.environ, "TRESOR_SITE_CONFIG": str(node.site.source)}
    verify = subprocess.run(
        [sys.executable, "-m", "tresor", "airlock", "audit", "verify"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    print(
        f"\nrequests made: {len(rec.seen)}, in the database: {len(stored)} "
        f"({', '.join(f'{s} {n}' for s, n in sorted(statuses.items()))})"
    )
    print(f"audit entries: {len(entries)}; bundles verified: {len(released)}")
    print(f"tresor airlock audit verify: {(verify.stdout + verify.stderr).strip()}")
    if verify.returncode != 0:
        problems.append("tresor airlock audit verify failed")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=0.5, help="how long (default 0.5)")
    parser.add_argument("--researchers", type=int, default=20)
    parser.add_argument("--reviewers", type=int, default=4)
    args = parser.parse_args(argv)

    from tests.hub.node import LocalNode

    with tempfile.TemporaryDirectory(prefix="tresor-airlock-load-") as tmp:
        print("starting a local node (hub, proxy, airlock)...", flush=True)
        node = LocalNode.create(Path(tmp))
        node.start()
        try:
            tokens = {}
            for i in range(1, args.researchers + 1):
                name = f"loadres{i:02d}"
                node.create_user(name, ["researchers", PROJECT])
                tokens[name] = (researcher, node.user_token(name))
            for i in range(1, args.reviewers + 1):
                name = f"loadrev{i:02d}"
                node.create_user(name, ["airlock-reviewers"])
                tokens[name] = (reviewer, node.user_token(name))
            rec, stop = Recorder(), threading.Event()
            threads = [
                threading.Thread(target=role, args=(node, name, token, rec, stop), daemon=True)
                for name, (role, token) in tokens.items()
            ]
            print(f"{len(threads)} users at work for {args.minutes} minutes...", flush=True)
            start = time.perf_counter()
            for t in threads:
                t.start()
            time.sleep(args.minutes * 60)
            stop.set()
            for t in threads:
                t.join(timeout=300)
            seconds = time.perf_counter() - start
            report(rec, seconds, args.researchers, args.reviewers)
            problems = account(node, rec)
        finally:
            node.stop()
    server_errors = sum(n for code, n in rec.codes.items() if code >= 500)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    ok = not problems and not rec.errors and not server_errors
    print("\nOK: no 5xx, no errors, every request accounted for" if ok else "\nFAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
