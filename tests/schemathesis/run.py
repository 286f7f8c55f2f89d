"""The contract check: schemathesis, pinned (requirements.txt), bounded and seeded
(schemathesis.toml), with every check, against a hub-local started here.

    run.py <hub-local binary> [--workdir DIR] [-- extra schemathesis arguments]

Starts hub-local on free loopback ports in a fresh data directory with the sandbox's consent
given at once, and for each partner of PARTNERS takes its API key from the key file hub-local
writes, connects one customer as a browser would (the connect page's Continue, Lever's consent,
the callback), then runs `schemathesis run` against the served document with that key and that
connection's id. Exits non-zero when any run had any failure of any check. hub-local is
stopped by its PID whatever happens.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
# Three partners between them reach every flow and every setting a customer may change: HireUp
# (jobs, referrals, stage labels), Upwage (screening results, tags, result routes, posting
# overrides) and HR Cloud (hires, hire triggers, time zone). One run each, on one hub.
PARTNERS = ["hireup", "upwage", "hrcloud"]
ANNOUNCEMENT = "Lever integration hub on "


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_hub(binary: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    log = open(workdir / "hub-local.log", "w")
    hub = subprocess.Popen(
        [
            binary,
            "--addr", f"127.0.0.1:{free_port()}",
            "--lever-addr", f"127.0.0.1:{free_port()}",
            "--data-dir", str(workdir / "data"),
            "--consent", "auto",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            break
        for line in (workdir / "hub-local.log").read_text(errors="replace").splitlines():
            if line.startswith(ANNOUNCEMENT):
                return hub, line[len(ANNOUNCEMENT):].split(" ", 1)[0]
        time.sleep(0.1)
    hub.kill()
    sys.stderr.write((workdir / "hub-local.log").read_text(errors="replace"))
    raise SystemExit("hub-local did not start")


class Browser:
    """Cookies by host, sent over plain HTTP too (the hub's `__Host-` cookie is Secure, and a
    loopback hub is http), redirects followed by hand: what the connect flow needs of a browser."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.jar: dict[tuple[str, str], str] = {}

    def send(self, method: str, url: str, **kw) -> requests.Response:
        host = urllib.parse.urlsplit(url).hostname or ""
        cookies = "; ".join(f"{n}={v}" for (h, n), v in self.jar.items() if h == host)
        headers = kw.pop("headers", {})
        if cookies:
            headers["Cookie"] = cookies
        res = self.http.request(method, url, headers=headers, allow_redirects=False, timeout=30, **kw)
        for set_cookie in res.raw.headers.getlist("Set-Cookie"):
            for name, morsel in SimpleCookie(set_cookie).items():
                if morsel["max-age"] in ("0", "-1"):
                    self.jar.pop((host, name), None)
                else:
                    self.jar[(host, name)] = morsel.value
        return res

    def continue_link(self, link: str) -> requests.Response:
        origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(link))
        res = self.send("POST", link, data={"lever_environment": "production"}, headers={"Origin": origin})
        url = link
        for _ in range(8):
            location = res.headers.get("Location")
            if not location:
                return res
            url = urllib.parse.urljoin(url, location)
            res = self.send("GET", url)
        raise SystemExit(f"more than 8 redirects from {link}")


def connect_customer(base: str, key: str) -> str:
    auth = {"Authorization": f"Bearer {key}"}
    created = requests.post(f"{base}/v1/connections", json={"return_url": f"{base}/demo/done"}, headers=auth, timeout=30)
    created.raise_for_status()
    connection = created.json()
    Browser().continue_link(connection["connect_url"])
    status = requests.get(f"{base}/v1/connections/{connection['id']}", headers=auth, timeout=30).json()
    if status.get("status") != "active":
        raise SystemExit(f"the connection did not become active: {status}")
    return connection["id"]


def run_partner(partner: str, key: str, base: str, schema: str, workdir: Path, extra: list[str]) -> int:
    """One schemathesis run as `partner`, on a customer of its own; the run's exit status."""
    connection_id = connect_customer(base, key)
    out = workdir / partner
    out.mkdir(parents=True, exist_ok=True)
    print(f"[schemathesis] {partner}: connection {connection_id} on hub-local at {base}", flush=True)
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file", str(HERE / "schemathesis.toml"),
        "run", schema,
        "--url", base,
        "--header", f"Authorization: Bearer {key}",
        "--checks", "all",
        "--report", "junit",
        "--report-dir", str(out / "report"),
        "--no-color",
        *extra,
    ]
    env = {
        **os.environ,
        "HUB_CONNECTION_ID": connection_id,
        "HUB_RETURN_URL": f"{base}/demo/done",
        "HUB_SCHEMATHESIS_HOOKS": str(HERE / "hooks.py"),
        # Keys read `lhk_<id>_<secret>`: hooks.py keeps the run from revoking its own.
        "HUB_PROTECTED_KEY_ID": key.split("_")[1] if key.count("_") >= 2 else "",
        "HUB_SCHEMATHESIS_SET_ASIDE": str(out / "set-aside.json"),
        "SCHEMATHESIS_TELEMETRY": "false",
    }
    started = time.monotonic()
    status = subprocess.run(command, env=env, cwd=out).returncode
    set_aside = out / "set-aside.json"
    if set_aside.exists():
        reasons = json.loads(set_aside.read_text())
        print(f"[schemathesis] {partner}: set aside (tests/schemathesis/hooks.py says why): {sum(reasons.values())}", flush=True)
        for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            print(f"[schemathesis]   {n:6}  {reason}", flush=True)
    print(f"[schemathesis] {partner}: exit {status} after {time.monotonic() - started:.0f} s", flush=True)
    return status


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("hub_local")
    parser.add_argument("--workdir")
    parser.add_argument("--schema", help="a document file to test instead of the one the hub serves (while editing it)")
    parser.add_argument("--partner", action="append", help=f"run as this partner only (default: {', '.join(PARTNERS)})")
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: len(argv) - len(extra) - (1 if extra or "--" in argv else 0)])
    temporary = args.workdir is None
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="schemathesis-"))
    workdir.mkdir(parents=True, exist_ok=True)
    hub, base = start_hub(args.hub_local, workdir)
    try:
        keys = json.loads((workdir / "data" / "local-api-keys.json").read_text())
        schema = args.schema or f"{base}/openapi.json"
        failed = [p for p in args.partner or PARTNERS if run_partner(p, keys[p], base, schema, workdir, extra) != 0]
        keep = bool(failed) or not temporary  # a failed run keeps its hub log, data and reports
        kept = f"; hub log, data and reports in {workdir}" if keep else ""
        print(f"[schemathesis] {'FAILED as ' + ', '.join(failed) if failed else 'no failure'}{kept}", flush=True)
        return 1 if failed else 0
    finally:
        hub.terminate()
        try:
            hub.wait(timeout=10)
        except subprocess.TimeoutExpired:
            hub.kill()
        if temporary and not locals().get("keep", True):
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
