"""Web load: 20 clinicians completing steps through the web app on PostgreSQL, loopback only.

Fills a fresh PostgreSQL database with 3,000 cases, serves the app with uvicorn on 127.0.0.1,
and lets N client threads (signed in as the team's clinicians) view their worklist page, open
a case page, and complete a step through the API, pausing a think time between clicks (0 =
saturate the server), for a bounded time. A client with no ready step of its own undoes its
latest completion instead (the worklist's undo, within its 10 minutes), so every round is
worklist, case page and one change, however fast the steps run out. Prints requests/s and
p50/p95 latency per kind of request, then checks every change the server confirmed is
stored exactly as often as confirmed (one audit line each; the step's state follows the
last of them). Writes JSON.

    python benchmarks/web_load.py [--cases 3000] [--clients 20] [--seconds 60]
                                  [--think-ms 1000] [--template NAME] [--out FILE]

Filling 3,000 cases takes minutes on a busy machine: with `--template NAME` the filled
database is kept as NAME and later runs start from a copy of it (migrated to head first).
Every client signs in before the clock starts, so password hashing is not measured, and
starts within one think time of the clock (ramp-up), not all in the same millisecond.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
import zlib
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_latency import describe_load, fill, machine_load

from essence import bootstrap
from essence.services import auth

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "web_load.json"
POSTGRES_URL = os.environ.get(
    "ESSENCE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CLINICIANS = ("psy-1", "psy-2", "psy-3", "slp-1", "pt-1", "md-1", "bhv-1", "hab-1")
PAGE_GOAL_MS = 200.0
HTMX = {"HX-Request": "true"}  # the worklist's buttons are htmx requests
ROW = re.compile(
    r'<tr data-case="([^"]+)" data-step="([^"]+)">.*?class="state state-([a-z-]+)"', re.S
)


def create_database(template: str | None = None) -> tuple[str, str, bool]:
    """A fresh PostgreSQL database: (its URL, its name, whether it is a filled copy of
    `template`)."""
    name = f"essence_webload_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        copied = template is not None and bool(
            connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": template}
            ).first()
        )
        suffix = f' TEMPLATE "{template}"' if copied else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    admin.dispose()
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    return url, name, copied


def save_template(name: str, template: str) -> None:
    """Keep a copy of the freshly filled database `name` as `template` for later runs."""
    for url, engine in list(bootstrap._ENGINES.items()):
        if name in url:
            engine.dispose()
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{template}" TEMPLATE "{name}"'))
    admin.dispose()


def drop_database(name: str) -> None:
    """Remove the benchmark's database."""
    for url, engine in list(bootstrap._ENGINES.items()):
        if name in url:
            engine.dispose()
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def analyse(url: str) -> None:
    """Give the planner row counts, as autovacuum would in service (this test server runs
    with autovacuum off, and a freshly filled database has no statistics)."""
    with (
        bootstrap.engine_for(url)
        .connect()
        .execution_options(isolation_level="AUTOCOMMIT") as connection
    ):
        connection.execute(text("ANALYZE"))


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3 onwards)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _seconds(fields: list[str], user: int) -> float:
    """User plus system CPU seconds from `_stat_fields`: `user` is 11 for the process
    itself, 13 for its children that ended (the system time follows each)."""
    return (int(fields[user]) + int(fields[user + 1])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a process and its live child processes (uvicorn's
    workers) have used so far (Linux /proc)."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return 0.0
    total = _seconds(fields, 11)
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        total += sum(cpu_seconds(int(child)) for child in children.read_text().split())
    return total


def postgres_cpu_seconds(database: str) -> float:
    """CPU seconds (user + system) PostgreSQL has spent for `database` on this machine (0
    when it runs elsewhere): the database shares the cores with the app.

    Live backends show their database in their command line. Backends that ended (a pool
    that opens and closes connections) are counted through the postmaster's time of its
    ended children, which also holds other databases' ended backends: on a busy machine
    the difference between two calls may include a little work that is not ours.
    """
    total, postmasters = 0.0, set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
            if words[:1] != ["postgres:"]:
                continue
            fields = _stat_fields(int(cmdline.parent.name))
            postmasters.add(int(fields[1]))  # its checkpointer and writers are always there
            if database in words:
                total += _seconds(fields, 11)
        except (OSError, IndexError, ValueError):
            continue
    for postmaster in postmasters:
        try:
            fields = _stat_fields(postmaster)
        except OSError:
            continue
        total += _seconds(fields, 13)
    return total


def own_cpu_seconds() -> float:
    """CPU seconds (user + system) of this process: the load generator's own cost."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def insecure_app() -> object:
    """The app with cookies for plain http on loopback (uvicorn's factory for --workers)."""
    from essence.web.app import create_app

    return create_app(secure_cookies=False)


def start_server(url: str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    """uvicorn with the app on 127.0.0.1:`port` in its own process (plain http on loopback);
    with `workers` > 1, uvicorn's worker processes (sessions must live in the database)."""
    code = (
        f"import sys, uvicorn; sys.path.insert(0, {str(HERE)!r}); "
        f"uvicorn.run('web_load:insecure_app', factory=True, host='127.0.0.1', port={port}, "
        f"workers={workers}, log_level='warning', access_log=False)"
    )
    env = {**os.environ, "ESSENCE_DATABASE_URL": url}
    server = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            probe.request("GET", "/login")
            probe.getresponse().read()
            probe.close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the web app did not start within 120 s")


class Browser:
    """A keep-alive HTTP/1.1 connection with the session's cookies and headers (stdlib
    http.client: the load generator shares the cores with the server, and httpx cost it
    about three times the CPU per request)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.headers: dict[str, str] = {}
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, json_body: object = None, extra: dict[str, str] | None = None
    ) -> tuple[int, str]:
        """Send one request (with `extra` headers); returns (status, body text)."""
        headers = {**self.headers, **(extra or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _sep, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text

    def close(self) -> None:
        self.connection.close()


class Client(threading.Thread):
    """One clinician at a desk: worklist page, case page, complete a step; again until time."""

    def __init__(
        self,
        base: str,
        user: str,
        password: str,
        slot: int,
        slots: int,
        until: float,
        think_s: float,
    ):
        super().__init__(daemon=True)
        self.think_s = think_s
        self.base, self.user, self.password = base, user, password
        self.slot, self.slots, self.until = slot, slots, until
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter[str] = Counter()
        self.completed: list[tuple[str, str]] = []
        self.undone: list[tuple[str, str]] = []
        self.undoable: list[tuple[str, str]] = []
        self.rng = random.Random(slot * 7919 + zlib.crc32(user.encode()) % 1000)

    def timed(
        self,
        kind: str,
        client: Browser,
        method: str,
        path: str,
        json_body: object = None,
        extra: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        """Send one request and record its latency (ms) and status under `kind`."""
        started = time.perf_counter()
        status, text = client.request(method, path, json_body, extra)
        self.latency[kind].append((time.perf_counter() - started) * 1000)
        self.statuses[f"{kind} {status}"] += 1
        return status, text

    def think(self) -> None:
        """Pause like a person between clicks (uniform around the mean think time)."""
        left = self.until - time.monotonic()
        if self.think_s > 0 and left > 0:
            time.sleep(min(self.rng.uniform(0.5, 1.5) * self.think_s, left))

    def sign_in(self) -> None:
        """Open this client's session (before the clock starts: hashing is slow on purpose)."""
        self.client = Browser(self.base)
        status, text = self.client.request(
            "POST", "/api/v1/session", {"user_id": self.user, "password": self.password}
        )
        if status != 200:
            raise SystemExit(f"sign-in of a benchmark clinician failed: HTTP {status}")
        self.client.headers["X-CSRF-Token"] = json.loads(text)["csrf_token"]

    def run(self) -> None:
        client = self.client
        if self.think_s > 0:
            # People do not all click in the same millisecond: each client starts within
            # one think time, as in a ramp-up (a burst of 20 at t=0 is not a working day).
            time.sleep(self.rng.uniform(0, self.think_s))
        try:
            while time.monotonic() < self.until:
                page = self.timed("page /worklist", client, "GET", "/worklist")[1]
                mine = [
                    (case_id, key)
                    for case_id, key, state in ROW.findall(page)
                    if state in ("ready", "in-progress") and hash(case_id) % self.slots == self.slot
                ]
                self.think()
                if (not mine and not self.undoable) or time.monotonic() >= self.until:
                    continue
                case_id, key = self.rng.choice(mine) if mine else self.undoable[-1]
                self.timed("page /cases/{id}", client, "GET", f"/cases/{case_id}")
                self.think()
                if time.monotonic() >= self.until:
                    break
                if mine:
                    self.complete(client, case_id, key)
                else:
                    self.undo(client, case_id, key)
                self.think()
        finally:
            client.close()

    def complete(self, client: Browser, case_id: str, key: str) -> None:
        """Complete a ready step through the JSON API."""
        status, _text = self.timed(
            "api complete",
            client,
            "POST",
            f"/api/v1/cases/{case_id}/steps/{key}/complete",
            {"outcome": "load test"},
        )
        if status == 200:
            self.completed.append((case_id, key))
            self.undoable.append((case_id, key))

    def undo(self, client: Browser, case_id: str, key: str) -> None:
        """Undo this client's latest completion with the worklist's undo button (htmx)."""
        self.undoable.pop()
        status, _text = self.timed(
            "page undo", client, "POST", f"/worklist/{case_id}/{key}/undo", None, HTMX
        )
        if status == 200:
            self.undone.append((case_id, key))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def verify(
    url: str, completed: list[tuple[str, str]], undone: list[tuple[str, str]], since: str
) -> dict[str, object]:
    """Every change the server confirmed is stored as often as confirmed: one audit line per
    completion and per undo of each step, none unconfirmed, and each step completed exactly
    when it was completed once more than it was undone."""
    engine = bootstrap.engine_for(url)
    touched = {case_id for case_id, _key in completed}
    with engine.connect() as connection:
        audit: dict[str, Counter[tuple[str, str]]] = {
            "step.complete": Counter(),
            "step.undo": Counter(),
        }
        for action, case_id, detail in connection.execute(
            text(
                "SELECT action, case_id, detail FROM audit_event "
                "WHERE action IN ('step.complete', 'step.undo') "
                "AND outcome = 'ok' AND user_id <> 'bench' AND at >= :since"
            ),
            {"since": since},
        ):
            audit[action][(case_id, detail.split(" ", 1)[0])] += 1
            touched.add(case_id)
        states = {
            (case_id, key): state
            for case_id, key, state in connection.execute(
                text("SELECT case_id, key, state FROM case_step WHERE case_id = ANY(:ids)"),
                {"ids": sorted(touched)},
            )
        }
    completions, undos = Counter(completed), Counter(undone)
    steps = set(completions) | set(undos) | set(audit["step.complete"]) | set(audit["step.undo"])
    wrong = [
        step
        for step in steps
        if audit["step.complete"][step] != completions[step]
        or audit["step.undo"][step] != undos[step]
        or completions[step] - undos[step] not in (0, 1)
        or (states.get(step) == "completed") != (completions[step] - undos[step] == 1)
    ]
    return {
        "confirmed_completions": len(completed),
        "confirmed_undos": len(undone),
        "steps_changed": len(steps),
        "audit_lines": sum(audit["step.complete"].values()) + sum(audit["step.undo"].values()),
        "steps_not_as_confirmed": len(wrong),
        "as_confirmed": not wrong,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think-ms", type=float, default=1000.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes.")
    parser.add_argument("--template", help="Keep/copy the filled database under this name.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    options = parser.parse_args()
    options.seconds = min(options.seconds, 60.0)
    url, name, copied = create_database(options.template)
    server = None
    try:
        started = time.perf_counter()
        if copied:
            bootstrap.initialise(database_url=url, demo_team=True)
        else:
            fill(url, options.cases)
            if options.template:
                save_template(name, options.template)
        analyse(url)
        passwords = auth.issue_demo_passwords(bootstrap.context(database_url=url))
        fill_s = time.perf_counter() - started
        how = f"copied from {options.template}" if copied else "filled"
        print(f"{options.cases} cases on PostgreSQL {how} in {fill_s:.1f} s")
        port = free_port()
        server = start_server(url, port, options.workers)
        with bootstrap.engine_for(url).connect() as connection:
            since = str(connection.execute(text("SELECT now()")).scalar_one())
        clients = []
        for index in range(options.clients):
            user = CLINICIANS[index % len(CLINICIANS)]
            slots = len(range(index % len(CLINICIANS), options.clients, len(CLINICIANS)))
            slot = index // len(CLINICIANS)
            base = f"http://127.0.0.1:{port}"
            think = options.think_ms / 1000
            clients.append(Client(base, user, passwords[user], slot, slots, 0.0, think))
        for client in clients:
            client.sign_in()
        until = time.monotonic() + options.seconds
        for client in clients:
            client.until = until
        machine = machine_load("before")
        server_cpu, database_cpu, client_cpu = (
            cpu_seconds(server.pid),
            postgres_cpu_seconds(name),
            own_cpu_seconds(),
        )
        begun = time.perf_counter()
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        wall = time.perf_counter() - begun
        server_cpu = cpu_seconds(server.pid) - server_cpu
        database_cpu = postgres_cpu_seconds(name) - database_cpu
        client_cpu = own_cpu_seconds() - client_cpu
        machine.update(machine_load("after"))
    except BaseException:
        drop_database(name)  # a failed start or fill leaves no database behind
        raise
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    latency: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[str] = Counter()
    completed: list[tuple[str, str]] = []
    undone: list[tuple[str, str]] = []
    for client in clients:
        for kind, values in client.latency.items():
            latency[kind].extend(values)
        statuses.update(client.statuses)
        completed.extend(client.completed)
        undone.extend(client.undone)
    try:
        checks = verify(url, completed, undone, since)
    finally:
        drop_database(name)
    requests = sum(len(v) for v in latency.values())
    pages = latency["page /worklist"] + latency["page /cases/{id}"]
    results: dict[str, object] = {
        "database": "postgresql",
        "cases": options.cases,
        "clients": options.clients,
        "workers": options.workers,
        "think_ms": options.think_ms,
        "seconds": round(wall, 1),
        "fill_s": round(fill_s, 1),
        "requests": requests,
        "requests_per_s": round(requests / wall, 1),
        "page_views_p95_ms": round(percentile(pages, 0.95), 1),
        "server_cpu_ms_per_request": round(1000 * server_cpu / max(requests, 1), 1),
        "postgres_cpu_ms_per_request": round(1000 * database_cpu / max(requests, 1), 1),
        "load_generator_cpu_ms_per_request": round(1000 * client_cpu / max(requests, 1), 1),
        "page_goal_ms": PAGE_GOAL_MS,
        "by_kind": {
            kind: {
                "requests": len(values),
                "p50_ms": round(statistics.median(values), 1),
                "p95_ms": round(percentile(values, 0.95), 1),
            }
            for kind, values in sorted(latency.items())
        },
        "statuses": dict(sorted(statuses.items())),
        "verification": checks,
        "machine": machine,
    }
    print(
        f"{options.clients} clients (think time {options.think_ms:.0f} ms) for {wall:.0f} s on "
        f"127.0.0.1 against {options.workers} worker(s), {options.cases} cases (PostgreSQL): "
        f"{requests} requests, "
        f"{requests / wall:.1f} requests/s"
    )
    for kind, figures in results["by_kind"].items():  # type: ignore[union-attr]
        print(
            f"  {kind:18s} {figures['requests']:6d} requests, p50 {figures['p50_ms']} ms, "
            f"p95 {figures['p95_ms']} ms"
        )
    shares = (
        results["server_cpu_ms_per_request"],
        results["postgres_cpu_ms_per_request"],
        results["load_generator_cpu_ms_per_request"],
    )
    total_ms = sum(shares)  # type: ignore[arg-type]
    cores = os.cpu_count() or 1
    results["cpu_ceiling_requests_per_s"] = round(cores * 1000 / total_ms, 1) if total_ms else None
    print(
        f"CPU per request (user+system): web server {shares[0]} ms, PostgreSQL {shares[1]} ms, "
        f"load generator {shares[2]} ms; all three share {cores} cores, so at most "
        f"{results['cpu_ceiling_requests_per_s']} requests/s here"
    )
    verdict = "met" if results["page_views_p95_ms"] < PAGE_GOAL_MS else "NOT met"
    print(
        f"page views p95 {results['page_views_p95_ms']} ms (goal < {PAGE_GOAL_MS:.0f} ms: "
        f"{verdict})"
    )
    print(
        f"changes confirmed: {checks['confirmed_completions']} completions, "
        f"{checks['confirmed_undos']} undos on {checks['steps_changed']} steps; stored as "
        f"confirmed: {checks['as_confirmed']} ({checks['steps_not_as_confirmed']} steps not)"
    )
    print(describe_load(machine))
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(results, indent=2))
    print(f"written: {options.out.name} in {options.out.parent.name}/")
    if not checks["as_confirmed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
