"""Fault tests: the database connection cut mid step-completion, the web process killed
with 20 completions in flight, the SQLite file on a read-only disk. Each ends with nothing
lost, nothing done twice, and a clear message."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from essence import bootstrap
from essence.cli.app import app
from essence.services import auth, cases
from essence.services.context import ServiceContext
from tests.factories import FixedClock, referral
from tests.ops.helpers import dump_tables
from tests.ops.proxy import CuttingProxy
from tests.web.conftest import build_web

ESSENCE = str(Path(sys.executable).with_name("essence"))


def _step_record(url: str, case_id: str, step: str) -> tuple[str, int]:
    """The step's state and how many times its completion was audited (read directly)."""
    engine = bootstrap.engine_for(url)
    with engine.connect() as connection:
        state = connection.execute(
            text("SELECT state FROM case_step WHERE case_id = :c AND key = :k"),
            {"c": case_id, "k": step},
        ).scalar_one()
        done = connection.execute(
            text(
                "SELECT count(*) FROM audit_event WHERE case_id = :c AND action = 'step.complete'"
                " AND detail = :k AND outcome = 'ok'"
            ),
            {"c": case_id, "k": step},
        ).scalar_one()
    return state, done


# The wire message of COMMIT itself (simple query: 'Q', int32 length, text, NUL); a bare
# b"COMMIT" would also match "BEGIN ISOLATION LEVEL READ COMMITTED".
COMMIT_MESSAGE = b"Q\x00\x00\x00\x0bCOMMIT\x00"


@pytest.fixture
def proxied(postgres_database: str) -> Iterator[tuple[str, str, CuttingProxy]]:
    """(direct URL, URL through a cutting proxy, the proxy) on a fresh PostgreSQL schema."""
    engine = bootstrap.engine_for(postgres_database)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    parsed = make_url(postgres_database)
    proxy = CuttingProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    through = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    yield postgres_database, through, proxy
    engine = bootstrap._ENGINES.pop(through, None)
    if engine is not None:
        engine.dispose()
    proxy.close()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("marker", "forward", "expected"),
    [
        (b"INSERT INTO audit_event", False, {200}),  # cut before the commit: retried
        (COMMIT_MESSAGE, False, {503}),  # cut as the commit is sent: not stored
        (COMMIT_MESSAGE, True, {503}),  # cut after the server committed: stored once
    ],
)
def test_cut_connection_mid_completion_answers_503_or_completes_once(
    proxied: tuple[str, str, CuttingProxy],
    clock: FixedClock,
    marker: bytes,
    forward: bool,
    expected: set[int],
) -> None:
    direct, through, proxy = proxied
    web = build_web(through, clock)
    case = web.open_case()
    client = web.client("coord-1")
    proxy.arm(marker, forward=forward)
    answer = client.post(f"/api/v1/cases/{case.id}/steps/intake/complete", json={})
    assert proxy.cuts == 1
    assert answer.status_code in expected, answer.text
    state, completions = _step_record(direct, case.id, "intake")
    if answer.status_code == 200:
        assert (state, completions) == ("completed", 1)
    else:
        assert "database" in answer.json()["detail"]
        assert (state, completions) in {("ready", 0), ("completed", 1)}
        if forward:
            assert (state, completions) == ("completed", 1)
    retried = client.post(f"/api/v1/cases/{case.id}/steps/intake/complete", json={})
    assert retried.status_code in (200, 409)
    assert _step_record(direct, case.id, "intake") == ("completed", 1)


@pytest.mark.postgres
def test_cut_connection_during_a_cli_completion_exits_1_with_one_line(
    proxied: tuple[str, str, CuttingProxy], clock: FixedClock
) -> None:
    direct, through, proxy = proxied
    bootstrap.initialise(database_url=through, demo_team=True)
    ctx = bootstrap.context(user_id="coord-1", database_url=through, clock=clock)
    case = cases.open_case(ctx, referral())
    proxy.arm(COMMIT_MESSAGE, forward=True)
    result = CliRunner().invoke(
        app,
        ["--as", "coord-1", "step", "complete", case.id, "intake"],
        env={"ESSENCE_DATABASE_URL": through},
    )
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "lost the connection" in result.stderr
    assert "Traceback" not in result.output
    assert _step_record(direct, case.id, "intake") == ("completed", 1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_web(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ESSENCE_DATABASE_URL": url, "ESSENCE_LOG_FORMAT": "json"}
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [ESSENCE, "web", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=sink,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise AssertionError(log.read_text())
        time.sleep(0.2)
    process.kill()
    raise AssertionError("essence web did not start: " + log.read_text())


def _login(base: str, password: str) -> dict[str, str]:
    """Sign in as coord-1; the headers that carry the session (cookie sent by hand, since
    the Secure cookie would not travel over the loopback's plain http) and CSRF token."""
    answer = httpx.post(
        f"{base}/api/v1/session", json={"user_id": "coord-1", "password": password}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    cookie = answer.headers["set-cookie"].split(";", 1)[0]
    return {"Cookie": cookie, "X-CSRF-Token": answer.json()["csrf_token"]}


@pytest.mark.slow
def test_sigkill_with_20_completions_in_flight_loses_none_and_doubles_none(
    database_url: str, app_context: ServiceContext, tmp_path: Path
) -> None:
    password = auth.issue_demo_passwords(app_context)["coord-1"]
    case_ids = [cases.open_case(app_context, referral()).id for _ in range(20)]
    for engine_url in [u for u in bootstrap._ENGINES if u == database_url]:
        bootstrap._ENGINES.pop(engine_url).dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "web.log"
    process = _start_web(database_url, port, log)
    headers = _login(base, password)

    def complete(case_id: str) -> int | None:
        try:
            return httpx.post(
                f"{base}/api/v1/cases/{case_id}/steps/intake/complete",
                json={"outcome": "done"},
                headers=headers,
                timeout=30,
            ).status_code
        except httpx.HTTPError:
            return None

    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(complete, case_id) for case_id in case_ids]
        while not any(f.done() for f in futures):
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        statuses = [f.result() for f in futures]
    answered = [cid for cid, s in zip(case_ids, statuses, strict=True) if s is not None]
    assert any(s == 200 for s in statuses)
    assert all(s in (200, None) for s in statuses), statuses

    process = _start_web(database_url, port, log)
    try:
        for case_id, status in zip(case_ids, statuses, strict=True):
            state, completions = _step_record(database_url, case_id, "intake")
            assert completions <= 1, f"{case_id} completed twice"
            assert (state == "completed") == (completions == 1)
            if status == 200:
                assert state == "completed", f"{case_id} answered 200 but is {state}"
        headers = _login(base, password)
        for case_id in case_ids:  # a client may safely send again what got no answer
            again = complete(case_id)
            assert again in (200, 409)
            assert _step_record(database_url, case_id, "intake") == ("completed", 1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
    assert len(answered) >= 1


def _can_mount_read_only(directory: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         f"mount --bind '{directory}' '{directory}' && "
         f"mount -o remount,bind,ro '{directory}' '{directory}' && ! touch '{directory}/probe'"],
        capture_output=True,
        check=False,
    )  # fmt: skip
    return probe.returncode == 0


def test_read_only_disk_gives_a_clear_error_and_no_partial_state(tmp_path: Path) -> None:
    """chmod does not stop root, so the directory is bind-mounted read-only in a private
    mount namespace of the command (`unshare -m`): the kernel itself refuses every write."""
    data = tmp_path / "data"
    data.mkdir()
    if not _can_mount_read_only(data):
        pytest.skip("needs unshare and mount (root or CAP_SYS_ADMIN) for a read-only mount")
    url = f"sqlite:///{data / 'essence.db'}"
    env = {**os.environ, "ESSENCE_DATABASE_URL": url, "ESSENCE_USER": "coord-1"}
    subprocess.run([ESSENCE, "init", "--demo"], env=env, check=True, capture_output=True)
    opened = subprocess.run(
        [ESSENCE, "case", "open", "--personnummer", referral().personnummer,
         "--name", "Rut Skrivskyddad", "--municipality", "Umeå",
         "--referring-unit", "BHV", "--referral-date", "2026-11-02", "--json"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    case_id = opened.stdout.split('"id": "')[1].split('"')[0]
    engine = bootstrap.engine_for(url)
    before = dump_tables(engine)
    engine.dispose()
    bootstrap._ENGINES.pop(url)
    files_before = sorted(p.name for p in data.iterdir())

    command = (
        f"mount --bind '{data}' '{data}' && mount -o remount,bind,ro '{data}' '{data}' && "
        f"exec '{ESSENCE}' step complete {case_id} intake --outcome done"
    )
    result = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", command],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "read-only" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in data.iterdir()) == files_before
    engine = bootstrap.engine_for(url)
    assert dump_tables(engine) == before
    engine.dispose()
    bootstrap._ENGINES.pop(url)
