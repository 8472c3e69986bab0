"""The resident worker behind `essence.cli.client`: imports done once, one fork per command.

Started by the client on first use (detached, in its own session, no terminal), the worker
imports what the routed commands need (SQLAlchemy, SQLModel, the models and mappers, the
services, typer and rich), then listens on its private Unix socket. For each command it
forks a child that checks the peer is the same user in the same namespaces, takes over the
client's stdin, stdout and stderr, its environment, umask and working directory, and runs
the typer app exactly as the in-process entry point would (`--as`, the request id,
logging, one unit of work), then reports the exit status. The worker itself never opens a
database connection, so each command has its own, whatever database its environment names,
and it never logs anything.

Nothing the worker preloads may read the environment or the terminal at import time
(`essence.cli.render` and typer's rich help make their consoles then): such modules are
imported by each child after it has taken over the client's environment, and the worker
refuses to serve if one slipped into the preload. It exits after ``ESSENCE_WORKER_IDLE_S``
seconds without a command (600), when its socket is removed or replaced, or when the code
on disk no longer matches the key it was started for.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import gc
import io
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from typing import Any

from essence.cli.client import (
    ACCEPT_WAIT_S,
    DEFAULT_IDLE_S,
    HEADER,
    STATUS,
    _receive,
    code_key,
    identity,
)

# Imported once by the worker; none of them reads the environment or the terminal at import.
PRELOAD = (
    "essence.cli.app",
    "essence.cli.cases",
    "essence.cli.line_table",
    "essence.cli.schedule",
    "essence.cli.steps",
    "essence.bootstrap",
    "essence.logging_setup",
    "essence.services.case_views",
    "essence.services.cases",
    "essence.services.scheduling",
    "essence.services.steps",
    "essence.services.views",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.dialects.postgresql.psycopg",
    "psycopg",
    "rich.box",
    "rich.console",
    "rich.markup",
    "rich.table",
    "rich.text",
)
# Modules that build consoles from the environment at import: each child imports its own.
ENV_CAPTURING = ("essence.cli.render", "typer.rich_utils")
# Native thread pools would not survive fork: keep the numerical libraries single-threaded.
SINGLE_THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
REFUSED = 3  # exit status of a worker that will not serve (the client stops waiting)


def serve(path: str, key: str) -> None:
    """Serve commands on the Unix socket `path` for code `key` until idle.

    Returns at once (status 0) when another worker already holds this key's lock; exits
    with `REFUSED` when this process cannot fork safely or its code is not `key`'s.
    """
    os.umask(0o077)
    lock = _lock(path + ".lock")
    if lock is None:
        return
    idle_s = _idle_seconds()
    for name in SINGLE_THREAD_ENV:
        os.environ[name] = "1"
    preload()
    if code_key() != key or not _single_threaded() or any(m in sys.modules for m in ENV_CAPTURING):
        raise SystemExit(REFUSED)
    listener, inode = _listen(path)
    gc.collect()
    gc.freeze()  # the children share these pages instead of copying them at their first GC
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    try:
        _accept_until_idle(listener, path, inode, key, lock, idle_s)
    finally:
        listener.close()
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == inode:
                os.unlink(path)


def preload() -> None:
    """Import `PRELOAD` and configure the ORM mappers (a module that fails to import is
    left for the command to import, and fail, as it would in-process)."""
    from importlib import import_module

    for name in PRELOAD:
        with contextlib.suppress(Exception):
            import_module(name)
    with contextlib.suppress(Exception):
        from sqlalchemy.orm import configure_mappers

        from essence.adapters.schema_version import revisions

        configure_mappers()
        revisions()


def _stop(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _idle_seconds() -> float:
    try:
        return max(0.1, float(os.environ.get("ESSENCE_WORKER_IDLE_S", DEFAULT_IDLE_S)))
    except ValueError:
        return DEFAULT_IDLE_S


def _lock(path: str) -> int | None:
    """Hold `path` locked for the worker's life, with the worker's pid in it (for tools
    that stop workers); None when another worker holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1


def _listen(path: str) -> tuple[socket.socket, int]:
    """Bind beside `path`, make it 0600, then rename it into place (clients never see a
    socket that is not listening yet)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    temporary = f"{path}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(temporary)
    os.chmod(temporary, 0o600)
    listener.listen(64)
    os.rename(temporary, path)
    return listener, os.stat(path).st_ino


def _accept_until_idle(
    listener: socket.socket, path: str, inode: int, key: str, lock: int, idle_s: float
) -> None:
    tick = min(30.0, max(0.05, idle_s / 4))
    last = time.monotonic()
    while True:
        ready, _, _ = select.select([listener], [], [], tick)
        if ready:
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            last = time.monotonic()
            _fork(connection, listener, lock, key)
            connection.close()
            continue
        if time.monotonic() - last >= idle_s or not _still_ours(path, inode):
            return
        if code_key() != key:
            return


def _still_ours(path: str, inode: int) -> bool:
    try:
        return os.stat(path).st_ino == inode
    except OSError:
        return False


def _fork(connection: socket.socket, listener: socket.socket, lock: int, key: str) -> None:
    try:
        pid = os.fork()
    except OSError:
        return  # the client sees the connection close and runs the command itself
    if pid:
        return
    status = 1
    try:
        listener.close()
        os.close(lock)
        status = _child(connection, key)
    finally:
        os._exit(status)


def _child(connection: socket.socket, key: str) -> int:
    """One command: check the peer, take over its stdio, environment and folder, run."""
    if _peer_uid(connection) != os.getuid():
        return 1
    connection.settimeout(ACCEPT_WAIT_S)
    header, fds, _flags, _address = socket.recv_fds(connection, HEADER.size, 3)
    if len(fds) != 3:
        return 1
    rest = _receive(connection, HEADER.size - len(header)) if len(header) < HEADER.size else b""
    body = _receive(connection, HEADER.unpack(header + (rest or b""))[0])
    if body is None:
        return 1
    request = json.loads(body.decode("utf-8", "surrogateescape"))
    same = request.get("key") == key and request.get("identity") == _jsonable(identity())
    if not same or not _take_over(request, fds):
        return 1
    connection.sendall(b"P" + STATUS.pack(os.getpid()))
    if _receive(connection, 1) != b"G":
        return 1  # the client gave up and runs the command itself: do nothing
    connection.settimeout(None)
    status = run(request["argv"], request["prog_name"])
    with contextlib.suppress(OSError):
        connection.sendall(b"X" + STATUS.pack(status))
    return status


def _jsonable(value: object) -> object:
    return json.loads(json.dumps(value))


def _peer_uid(connection: socket.socket) -> int | None:
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return os.getuid() if hasattr(os, "getpeereid") else None  # pragma: no cover
    import struct

    credentials = connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    return int(struct.unpack("3i", credentials)[1])


def _take_over(request: dict[str, Any], fds: list[int]) -> bool:
    """Become the client's process: its stdio, signals as at start, environment, folder."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    os.umask(int(request["umask"]))
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    try:
        os.chdir(request["cwd"])
    except OSError:
        return False
    streams = [_text_stream(fd, spec) for fd, spec in enumerate(request["stdio"])]
    sys.stdin, sys.stdout, sys.stderr = streams
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = streams
    sys.argv = list(request["argv"])
    return True


def _text_stream(fd: int, spec: dict[str, Any]) -> io.TextIOWrapper:
    """A standard stream on `fd` set up as the client's Python set up its own."""
    binary = open(fd, "rb" if fd == 0 else "wb", closefd=False)  # noqa: SIM115
    return io.TextIOWrapper(
        binary,
        encoding=spec["encoding"],
        errors=spec["errors"],
        newline="\n",
        line_buffering=spec["line_buffering"],
        write_through=spec["write_through"],
    )


def run(argv: list[str], prog_name: str) -> int:
    """Run the typer app on `argv` as the in-process entry point would; the exit status."""
    from essence.cli.app import app

    try:
        app(args=argv[1:], prog_name=prog_name)
        status = 0
    except SystemExit as done:
        status = _exit_status(done.code)
    except KeyboardInterrupt:
        sys.excepthook(*sys.exc_info())
        status = 130
    except BaseException:
        sys.excepthook(*sys.exc_info())
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    return status


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1
