#!/usr/bin/env python3
"""Runs the published Singer tap-lever, unmodified, against a running Lever sandbox.

tap-lever calls `https://api.lever.co/v1...` (fixed in the package). This launcher
re-roots those calls onto the sandbox at run time, by wrapping `requests`' session
before the tap is imported; the package's files are never touched. It then:

1. discovers the tap's catalog and selects every stream the tap offers;
2. runs a full sync from a start date some weeks back, with an API key (HTTP Basic,
   as the tap sends it);
3. checks every stream's records against what the sandbox holds (asked over its
   admin HTTP API: `/_admin/inventory`), and that the streams of things a real account
   has on some candidates (referral forms) are not empty; notes, which tap-lever 1.1.0
   has no stream for, are read over the Data API for the same opportunities and counted
   the same way (a row marked "direct");
4. changes the account (a stage move on an old candidate, a new applicant), runs
   again from the state the first run emitted, and checks that the incremental run
   fetched exactly what changed since the bookmarks, and fewer than the full run.

Usage: run_tap.py --sandbox http://127.0.0.1:PORT --api-key KEY [--workdir DIR] [--days 30]
Exit status 0 when every check passes; the counts and times are printed either way.
"""

import argparse
import base64
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

LEVER = "https://api.lever.co/v1"


def shim(base, tap_args):
    """Inside the tap's process: re-root every request onto the sandbox, then run the tap."""
    import requests.sessions

    original = requests.sessions.Session.request

    def rerooted(self, method, url, *args, **kwargs):
        if url.startswith(LEVER):
            url = base + "/v1" + url[len(LEVER):]
        elif not url.startswith(base):
            raise RuntimeError(f"tap-lever tried to reach {url}, which is not the sandbox")
        return original(self, method, url, *args, **kwargs)

    requests.sessions.Session.request = rerooted
    import tap_lever  # imported only after the patch, so every call goes through it

    sys.argv = ["tap-lever"] + tap_args
    tap_lever.main()


def run_tap(base, args, workdir, name, singer_messages=True):
    """Runs the tap in a child process; returns (messages, seconds), or (stdout text, seconds)."""
    out_path = os.path.join(workdir, f"{name}.out.jsonl")
    err_path = os.path.join(workdir, f"{name}.log")
    started = time.monotonic()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        code = subprocess.call([sys.executable, __file__, "shim", base, "--"] + args, stdout=out, stderr=err)
    took = time.monotonic() - started
    if code != 0:
        with open(err_path) as f:
            tail = f.read()[-4000:]
        raise SystemExit(f"tap-lever {name} exited with {code}; last of its log ({err_path}):\n{tail}")
    with open(out_path) as f:
        if not singer_messages:
            return f.read(), took
    messages = []
    with open(out_path) as f:
        for line in f:
            line = line.strip()
            if line:
                messages.append(json.loads(line))
    return messages, took


def admin(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=20) as r:
        return json.loads(r.read())


def records(messages):
    """Stream name -> list of records."""
    by = {}
    for m in messages:
        if m.get("type") == "RECORD":
            by.setdefault(m["stream"], []).append(m["record"])
    return by


def last_state(messages):
    states = [m["value"] for m in messages if m.get("type") == "STATE"]
    return states[-1] if states else {}


def distinct(recs, key="id"):
    return {r[key] for r in recs}


def bookmark_ms(state, table):
    value = state.get("bookmarks", {}).get(table, {}).get("last_record")
    if value is None:
        raise SystemExit(f"state has no bookmark for {table}: {state}")
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return int(moment.timestamp() * 1000)


class Checks:
    def __init__(self):
        self.failures = []
        self.rows = []

    def equal(self, run, stream, got, expected):
        ok = got == expected
        self.rows.append((run, stream, got, expected, "ok" if ok else "MISMATCH"))
        if not ok:
            self.failures.append(f"{run} {stream}: tap emitted {got}, sandbox holds {expected}")

    def true(self, what, cond):
        if not cond:
            self.failures.append(what)


def expected_counts(inv, since, emitted):
    """What each stream should emit, from the sandbox's inventory. `since` and
    `emitted` are per parent stream: each time-ranged stream keeps its own bookmark
    (opportunities in 1-day windows, candidates and requisitions in 7-day ones)."""
    by_id = {o["id"]: o for o in inv["opportunities"]}
    updated_since = lambda ms: {o["id"] for o in inv["opportunities"] if o["updatedAt"] >= ms}
    children = lambda parent, field: sum(by_id[i][field] for i in emitted[parent] if i in by_id)
    counts = {
        "opportunities": len(updated_since(since["opportunities"])),
        "candidates": len(updated_since(since["candidates"])),
        "requisitions": len([r for r in inv["requisitions"] if r["createdAt"] >= since["requisitions"]]),
        "postings": inv["postings"],
        "users": inv["users"]["active"],
        "stages": inv["stages"],
        "archive_reasons": inv["archive_reasons"],
        "sources": inv["sources"],
    }
    for parent, prefix in (("opportunities", "opportunity"), ("candidates", "candidate")):
        for field in ("applications", "offers", "referrals", "resumes"):
            counts[f"{prefix}_{field}"] = children(parent, field)
    return counts, {t: updated_since(since[t]) for t in ("opportunities", "candidates")}


def notes_read(base, key, opportunity_ids):
    """Notes of these opportunities as a Data API client reads them (every page)."""
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    ids = set()
    for opp in sorted(opportunity_ids):
        url = f"{base}/v1/opportunities/{opp}/notes?limit=100"
        while url:
            req = urllib.request.Request(url, headers={"authorization": auth})
            with urllib.request.urlopen(req, timeout=20) as r:
                page = json.loads(r.read())
            ids.update(n["id"] for n in page["data"])
            nxt = page.get("next") if page.get("hasNext") else None
            url = f"{base}/v1/opportunities/{opp}/notes?limit=100&offset={nxt}" if nxt else None
    return len(ids)


def check_run(checks, run, recs, inv, since):
    emitted = {t: distinct(recs.get(t, [])) for t in ("opportunities", "candidates")}
    expected, wanted = expected_counts(inv, since, emitted)
    for t in ("opportunities", "candidates"):
        checks.true(f"{run}: {t} emitted are not those updated since {since[t]}: "
                    f"extra {sorted(emitted[t] - wanted[t])[:5]}, missing {sorted(wanted[t] - emitted[t])[:5]}",
                    emitted[t] == wanted[t])
    for stream, want in expected.items():
        key = "text" if stream == "sources" else "id"
        checks.equal(run, stream, len(distinct(recs.get(stream, []), key)), want)
    return emitted["opportunities"]


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "shim":
        sep = sys.argv.index("--")
        return shim(sys.argv[2], sys.argv[sep + 1:])

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sandbox", required=True, help="base URL of a running lever-sandbox")
    p.add_argument("--api-key", required=True, help="an API key the sandbox accepts (--api-key)")
    p.add_argument("--workdir", default=None, help="where config, catalog, state and tap output go")
    p.add_argument("--days", type=int, default=30, help="the first run's start date, in days before now")
    a = p.parse_args()
    base = a.sandbox.rstrip("/")
    workdir = a.workdir or tempfile.mkdtemp(prefix="tap-lever-")
    os.makedirs(workdir, exist_ok=True)

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    start = now - dt.timedelta(days=a.days)
    start_ms = int(start.timestamp() * 1000)
    config = os.path.join(workdir, "config.json")
    with open(config, "w") as f:
        json.dump({"token": a.api_key, "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ")}, f)

    total_started = time.monotonic()
    # --discover prints the catalog as one JSON document, not Singer messages.
    discovered, _ = run_tap(base, ["--config", config, "--discover"], workdir, "discover", singer_messages=False)
    catalog = json.loads(discovered)
    streams = [s["stream"] for s in catalog["streams"]]
    for s in catalog["streams"]:
        for m in s["metadata"]:
            if m["breadcrumb"] == []:
                m["metadata"]["selected"] = True
    catalog_path = os.path.join(workdir, "catalog.json")
    with open(catalog_path, "w") as f:
        json.dump(catalog, f)

    checks = Checks()
    first, first_s = run_tap(base, ["--config", config, "--catalog", catalog_path], workdir, "full")
    recs = records(first)
    inv = admin(base, "GET", "/_admin/inventory")
    checks.true(f"the tap offers {len(streams)} streams, emitted {sorted(recs)}", set(streams) <= set(recs) | {
        # streams that legitimately have no records in the sandbox (the seed has no resumes)
        "opportunity_resumes", "candidate_resumes"})
    first_opps = check_run(checks, "full", recs, inv, {t: start_ms for t in ("opportunities", "candidates", "requisitions")})
    # A real account has referral forms and notes on some candidates: so must the sandbox.
    for stream in ("opportunity_referrals", "candidate_referrals"):
        got = len(distinct(recs.get(stream, [])))
        checks.true(f"full {stream}: no records (the sandbox should have referral forms on some candidates)", got > 0)
    by_id = {o["id"]: o for o in inv["opportunities"]}
    want_notes = sum(by_id[i]["notes"] for i in first_opps if i in by_id)
    checks.equal("full", "notes (direct)", notes_read(base, a.api_key, first_opps), want_notes)
    checks.true("full notes: none (the sandbox should have notes on some candidates)", want_notes > 0)
    state = last_state(first)
    state_path = os.path.join(workdir, "state.json")
    with open(state_path, "w") as f:
        json.dump(state, f)

    # Change the account between runs: an old candidate moves stage, someone new applies.
    opp_mark = bookmark_ms(state, "opportunities")
    old = sorted((o for o in inv["opportunities"] if o["updatedAt"] < opp_mark), key=lambda o: o["updatedAt"])
    checks.true("the seed has candidates older than the bookmark", bool(old))
    moved = old[0]["id"] if old else None
    if moved:
        admin(base, "POST", f"/_admin/opportunities/{moved}/stage", {"stage": "offer"})
    seed = admin(base, "GET", "/_admin/seed")
    applied = admin(base, "POST", "/_admin/applications",
                    {"posting_id": seed["postings"][0], "name": "Tap Incremental", "email": "tap.incremental@example.com"})

    second, second_s = run_tap(base, ["--config", config, "--catalog", catalog_path, "--state", state_path], workdir, "incremental")
    recs2 = records(second)
    inv2 = admin(base, "GET", "/_admin/inventory")
    marks = {t: bookmark_ms(state, t) for t in ("opportunities", "candidates", "requisitions")}
    second_opps = check_run(checks, "incremental", recs2, inv2, marks)
    checks.true(f"incremental run missed the moved candidate {moved}", moved is None or moved in second_opps)
    checks.true("incremental run missed the new applicant", applied["opportunityId"] in second_opps)
    checks.true(f"incremental run fetched {len(second_opps)} opportunities, not fewer than the full run's {len(first_opps)}",
                len(second_opps) < len(first_opps))
    total_s = time.monotonic() - total_started

    print(f"tap-lever 1.1.0 against {base}: {len(streams)} streams, start {start.isoformat()}")
    print(f"{'run':<12} {'stream':<26} {'tap':>6} {'sandbox':>8}")
    for run, stream, got, want, verdict in checks.rows:
        print(f"{run:<12} {stream:<26} {got:>6} {want:>8}  {verdict}")
    print(f"records: full {sum(len(v) for v in recs.values())} in {first_s:.1f}s, "
          f"incremental {sum(len(v) for v in recs2.values())} in {second_s:.1f}s; total {total_s:.1f}s (workdir {workdir})")
    if checks.failures:
        print("tap-lever check FAILED:", file=sys.stderr)
        for f in checks.failures:
            print("  " + f, file=sys.stderr)
        return 1
    print("tap-lever check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
