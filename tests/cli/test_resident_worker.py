"""The resident worker: the real `essence` script behaves the same through it and in-process.

Each command runs as a process of the installed console script, once through the worker
and once with ``ESSENCE_NO_WORKER=1``. Whether the worker served a command is told by the
CPU time of the `essence` process: through the worker it only forwards (well under 0.4 s);
in-process it imports SQLAlchemy and the models (well over).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from essence import bootstrap
from essence.cli import client
from essence.services.cases import open_case
from tests.conftest import _reset_postgres as reset_postgres
from tests.factories import referral

ESSENCE = Path(sys.executable).parent / "essence"
FORWARD_ONLY_CPU_S = 0.4  # the client's CPU through the worker stays below, in-process above

pytestmark = pytest.mark.skipif(
    not ESSENCE.exists() or not hasattr(os, "fork"),
    reason="needs the installed `essence` console script and fork",
)


@dataclass
class Run:
    """One finished `essence` process."""

    returncode: int
    stdout: str
    stderr: str
    cpu_s: float


def essence(*args: str, url: str, folder: Path, worker: bool, **env: str) -> Run:
    """Run the console script as coord-1 (unless `--as` is given) on `url`."""
    environment = {
        **os.environ,
        "ESSENCE_DATABASE_URL": url,
        "ESSENCE_WORKER_DIR": str(folder),
        "ESSENCE_NO_WORKER": "0" if worker else "1",
        "COLUMNS": "120",
        **env,
    }
    environment.pop("ESSENCE_USER", None)
    prefix = [] if "--as" in args else ["--as", "coord-1"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen([str(ESSENCE), *prefix, *args], env=environment,
                                   stdout=out, stderr=err)  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)  # this process's own CPU, even in threads
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            process.returncode,
            out.read().decode(),
            err.read().decode(),
            usage.ru_utime + usage.ru_stime,
        )


def worker_pids(folder: Path) -> list[int]:
    """Pids of the live workers in `folder` (a lock file that is still held)."""
    pids = []
    for lock in folder.glob("*.lock"):
        fd = os.open(lock, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            with contextlib.suppress(ValueError, IndexError):
                pids.append(int(lock.read_text().split()[0]))
        finally:
            os.close(fd)
    return pids


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with contextlib.suppress(OSError):  # a zombie whose parent has not reaped it yet
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] == "Z"
    return False


def wait_until(check: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def stop_workers(folder: Path) -> None:
    for pid in worker_pids(folder):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
        wait_until(lambda pid=pid: gone(pid), 5.0)


@contextlib.contextmanager
def private_folder() -> Iterator[Path]:
    """A short private folder (socket paths are limited to about 100 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="ew-", dir="/tmp"))
    try:
        yield folder
    finally:
        stop_workers(folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    """One worker folder for the module: the worker serves every database."""
    with private_folder() as made:
        yield made


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def module_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """One initialised database (demo team) per backend for the module."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'essence.db'}"
    else:
        url = request.getfixturevalue("postgres_database")
        reset_postgres(url)
    bootstrap.initialise(database_url=url, demo_team=True)
    return url


@pytest.fixture
def cases(module_database: str) -> tuple[str, str, str]:
    """Two newly opened cases (consent given) of their own for each test: url, ids."""
    ctx = bootstrap.context(user_id="coord-1", database_url=module_database)
    first = open_case(ctx, referral()).id
    second = open_case(ctx, referral()).id
    return module_database, first, second


def audit_rows(url: str, after: int, until: int = 2**62) -> list[tuple[object, ...]]:
    """Audit rows with `after` < id <= `until`: who, role, action, case, outcome, detail,
    request id."""
    with bootstrap.engine_for(url).connect() as connection:
        rows = connection.execute(
            text(
                "SELECT user_id, role, action, case_id, outcome, detail, request_id "
                "FROM audit_event WHERE id > :after AND id <= :until ORDER BY id"
            ),
            {"after": after, "until": until},
        )
        return [tuple(row) for row in rows]


def last_audit_id(url: str) -> int:
    with bootstrap.engine_for(url).connect() as connection:
        return connection.execute(text("SELECT coalesce(max(id), 0) FROM audit_event")).scalar()


def assert_same(through: Run, here: Run) -> None:
    # In-process even a usage error imports typer (about 0.3 s); forwarding costs far less.
    assert through.cpu_s < min(FORWARD_ONLY_CPU_S, here.cpu_s / 2), "the worker did not serve"
    assert (through.returncode, through.stdout, through.stderr) == (
        here.returncode,
        here.stdout,
        here.stderr,
    )


def test_reads_print_the_same_through_the_worker_and_in_process(
    cases: tuple[str, str, str], folder: Path, request: pytest.FixtureRequest
) -> None:
    url, first, _ = cases
    commands = [("case", "show", first), ("case", "show", "c-nope")]
    if "sqlite" in request.node.callspec.id:  # all of them once; PostgreSQL the case itself
        commands += [
            ("--as", "psy-1", "worklist"),
            ("case", "list"),
            ("schedule", "show", "--clinician", "psy-1"),
            ("worklist", "--bogus"),
        ]
    essence("case", "list", url=url, folder=folder, worker=True)  # the worker is up
    with ThreadPoolExecutor(max_workers=2) as pool:
        pairs = [
            (
                pool.submit(essence, *args, url=url, folder=folder, worker=True),
                pool.submit(essence, *args, url=url, folder=folder, worker=False),
            )
            for args in commands
        ]
        for through, here in pairs:
            assert_same(through.result(), here.result())


def test_a_completion_through_the_worker_writes_what_one_in_process_writes(
    cases: tuple[str, str, str], folder: Path
) -> None:
    url, first, second = cases
    start = last_audit_id(url)
    through = essence("step", "complete", first, "intake", "--outcome", "ok", url=url,
                      folder=folder, worker=True)  # fmt: skip
    middle = last_audit_id(url)
    here = essence("step", "complete", second, "intake", "--outcome", "ok", url=url,
                   folder=folder, worker=False)  # fmt: skip
    through.stdout = through.stdout.replace(first, second)
    assert_same(through, here)
    assert through.returncode == 0
    written_through = audit_rows(url, start, middle)
    written_here = audit_rows(url, middle)
    assert [r[:6] for r in written_through] == [(*r[:3], first, *r[4:6]) for r in written_here]
    assert written_through and written_through[0][0] == "coord-1"
    assert {r[6] for r in written_through}.isdisjoint({r[6] for r in written_here})


def test_bad_input_through_the_worker_is_one_line_and_exit_2(
    cases: tuple[str, str, str], folder: Path
) -> None:
    url, first, _ = cases
    before = last_audit_id(url)
    run = essence("case", "list", "--waiting-on", "astrologer", url=url, folder=folder,
                  worker=True)  # fmt: skip
    assert run.cpu_s < FORWARD_ONLY_CPU_S
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error:"), run.stderr
    assert "astrologer" in run.stderr and "Traceback" not in run.stderr
    refused = essence("step", "complete", first, "no_such_step", url=url, folder=folder,
                      worker=True)  # fmt: skip
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert audit_rows(url, before) == []


def test_concurrent_commands_through_the_worker_are_safe(
    cases: tuple[str, str, str], folder: Path
) -> None:
    url, first, second = cases
    args = ("step", "complete", first, "intake")
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(
            pool.map(
                lambda a: essence(*a, url=url, folder=folder, worker=True),
                [args, args, ("case", "show", second), ("case", "show", second)],
            )
        )
    completions, shows = runs[:2], runs[2:]
    assert sorted(r.returncode for r in completions)[0] == 0
    assert sorted(r.returncode for r in completions)[1] != 0
    failed = max(completions, key=lambda r: r.returncode)
    assert failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr
    assert shows[0].returncode == shows[1].returncode == 0
    assert shows[0].stdout == shows[1].stdout


def test_the_sockets_are_private(cases: tuple[str, str, str], folder: Path) -> None:
    url, _, _ = cases
    run = essence("case", "list", url=url, folder=folder, worker=True)
    assert run.cpu_s < FORWARD_ONLY_CPU_S
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    sockets = list(folder.glob("*.sock"))
    assert sockets
    for path in [*sockets, *folder.glob("*.lock")]:
        info = path.lstat()
        assert info.st_uid == os.getuid()
        assert stat.S_IMODE(info.st_mode) == 0o600, path.name


def test_a_folder_open_to_others_is_not_used(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'essence.db'}"
    bootstrap.initialise(database_url=url, demo_team=True)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    run = essence("case", "list", url=url, folder=shared, worker=True)
    assert run.returncode == 0 and run.cpu_s > FORWARD_ONLY_CPU_S
    assert list(shared.iterdir()) == []


def test_a_code_change_starts_a_new_worker_and_idle_workers_exit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'essence.db'}"
    bootstrap.initialise(database_url=url, demo_team=True)
    source = Path(client.__file__)
    with private_folder() as folder:
        first = essence("case", "list", url=url, folder=folder, worker=True,
                        ESSENCE_WORKER_IDLE_S="1")  # fmt: skip
        assert first.returncode == 0 and first.cpu_s < FORWARD_ONLY_CPU_S
        (old_socket,) = folder.glob("*.sock")
        (old_pid,) = worker_pids(folder)
        original = source.stat()
        try:
            os.utime(source, ns=(original.st_atime_ns, original.st_mtime_ns + 1_000_000_000))
            second = essence("case", "list", url=url, folder=folder, worker=True,
                             ESSENCE_WORKER_IDLE_S="1")  # fmt: skip
            assert second.cpu_s < FORWARD_ONLY_CPU_S
            assert second.stdout == first.stdout
            assert {p.name for p in folder.glob("*.sock")} - {old_socket.name}, "no new worker"
            new_pids = set(worker_pids(folder)) - {old_pid}
            assert new_pids
        finally:
            os.utime(source, ns=(original.st_atime_ns, original.st_mtime_ns))
        assert wait_until(lambda: all(gone(p) for p in [old_pid, *new_pids]))
        assert wait_until(lambda: not list(folder.glob("*.sock")))


def test_commands_that_may_run_long_or_ask_for_help_stay_in_process() -> None:
    routed = client.routed
    assert routed(["--as", "psy-1", "worklist"])
    assert routed(["step", "complete", "c-1", "intake", "--outcome", "ok"])
    assert not routed(["step", "complete", "c-1", "intake", "--replan"])
    assert not routed(["step", "cancel", "c-1", "intake", "--reason", "x"])
    assert not routed(["schedule", "plan"])
    assert not routed(["worklist", "--help"])
    assert not routed(["--help"])
    assert not routed(["init", "--demo"])
    assert re.fullmatch(r"[0-9a-f]{16}", client.code_key())
