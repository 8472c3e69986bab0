"""The `essence` entry point: short commands run in a resident worker, the rest in-process.

Importing SQLAlchemy, SQLModel, the models and the services costs about a second of CPU per
process, more than any short command itself. So the console script is this stdlib-only
client: for a few short, well-understood commands (``worklist``, ``case list|show``,
``schedule show`` and the plain ``step`` transitions) it hands the command to a per-user
worker that has those imports done (`essence.cli.worker`), starting the worker itself on
first use; every other command, and any command when the worker cannot be reached, runs
in this process as before.

The client passes its own stdin, stdout and stderr file descriptors (SCM_RIGHTS), argv,
the whole environment and the working directory over a Unix socket in a private
per-user directory (0700; the socket 0600). The worker forks one child per command, which
takes over those descriptors, environment and directory and runs the same typer app, so
output, terminal width and colour, exit codes, audit rows (acting user included) and the
one transaction per command are the same either way; concurrent commands run in
concurrent children. The worker's socket is keyed by the interpreter, ``sys.path`` and the
size and modification time of every file of the `essence` and `models` packages (and of
the ``sys.path`` folders), so an upgrade or an edit starts a new worker and never runs stale
code; the old one exits after its idle time.

Environment:
    ESSENCE_NO_WORKER: ``1`` runs every command in-process (tests and CI where needed).
    ESSENCE_WORKER_IDLE_S: seconds a worker waits for a command before it exits (600).
    ESSENCE_WORKER_DIR: folder for the sockets (default ``$XDG_RUNTIME_DIR/essence`` when
        that is private, else ``essence-<uid>`` in the temporary folder).

Nothing here logs; a command's own logging is unchanged (ids and outcomes only).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any

# Commands that go to the worker: short, non-interactive, one use case each.
ROUTED = {
    ("worklist",),
    ("case", "list"),
    ("case", "show"),
    ("schedule", "show"),
    ("step", "start"),
    ("step", "complete"),
    ("step", "hold"),
    ("step", "resume"),
    ("step", "no-show"),
    ("step", "reviewed"),
}
# Options that make a routed command long-running or not a command at all: run in-process.
IN_PROCESS_OPTIONS = ("--help", "--replan", "--install-completion", "--show-completion")
# Environment read at import time by the worker's preloaded libraries: part of the key.
IMPORT_TIME_ENV = ("PYTHON", "TYPER_", "_TYPER_")
DEFAULT_IDLE_S = 600.0
START_WAIT_S = 10.0  # how long a first command waits for a new worker to be ready
ACCEPT_WAIT_S = 3.0  # how long a command waits for the worker to take it
HEADER = struct.Struct("!I")
STATUS = struct.Struct("!i")
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, fewer elsewhere


def main(app: Any = None) -> None:
    """Console-script entry point: run the command in the worker when it may, else here.

    Args:
        app: the typer app to run in-process (default: `essence.cli.app.app`, imported
            only when needed).
    """
    status = run_in_worker(sys.argv) if routed(sys.argv[1:]) and worker_allowed() else None
    if status is not None:
        raise SystemExit(status)
    if app is None:
        from essence.cli.app import app
    app()


def routed(args: list[str]) -> bool:
    """True when `args` (after the program name) is a command the worker may run."""
    index = 0
    while index < len(args) and args[index].startswith("-"):
        if args[index] == "--as":
            index += 2
        elif args[index].startswith("--as="):
            index += 1
        else:
            return False  # --help, completion options, anything unknown: in-process
    words = tuple(args[index : index + 2])
    if words[:1] not in ROUTED and words not in ROUTED:
        return False
    return not any(arg in IN_PROCESS_OPTIONS or arg.startswith("--replan") for arg in args)


def worker_allowed() -> bool:
    """False when the user or the platform rules the worker out."""
    if os.environ.get("ESSENCE_NO_WORKER", "") not in ("", "0"):
        return False
    if any(name.endswith("_COMPLETE") for name in os.environ if name.startswith("_ESSENCE")):
        return False
    return hasattr(os, "fork") and hasattr(socket, "AF_UNIX") and hasattr(socket, "send_fds")


def runtime_dir() -> Path | None:
    """The private per-user folder for the sockets, created 0700; None when it is not
    private (owned by someone else, a symlink, or open to others)."""
    chosen = os.environ.get("ESSENCE_WORKER_DIR")
    if chosen:
        folder = Path(chosen)
    else:
        xdg = os.environ.get("XDG_RUNTIME_DIR")
        base = Path(xdg) if xdg and _private(Path(xdg)) else None
        if base is None:
            import tempfile

            folder = Path(tempfile.gettempdir()) / f"essence-{os.getuid()}"
        else:
            folder = base / "essence"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if _private(folder) else None


def _private(folder: Path) -> bool:
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    import stat

    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def identity() -> list[object]:
    """What a command sees of the system besides files and environment: its namespaces
    (a command under ``unshare -m`` sees other mounts), its root folder and its groups.
    A worker serves only commands with the same identity."""
    found: list[object] = [os.getgid(), sorted(os.getgroups())]
    for name in ("/", *(f"/proc/self/ns/{ns}" for ns in ("mnt", "user", "pid", "net", "ipc"))):
        try:
            info = os.stat(name)
        except OSError:
            found.append(None)
            continue
        found.append([info.st_dev, info.st_ino])
    return found


def code_key() -> str:
    """What the worker's code depends on: interpreter, import path, the import-time
    environment, `identity` and every file of `essence` and `models` (size, mtime), as 16
    hex digits."""
    digest = hashlib.sha256()
    for part in (sys.executable, sys.version, repr(identity()), *sys.path):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    for name in sorted(os.environ):
        if name.startswith(IMPORT_TIME_ENV):
            digest.update(f"{name}={os.environ[name]}\0".encode("utf-8", "surrogateescape"))
    for entry in sys.path:
        digest.update(_stamp(entry))
    for folder in _package_folders():
        for root, dirs, names in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(names):
                if not name.endswith((".pyc", ".pyo")):
                    digest.update(_stamp(os.path.join(root, name)))
    return digest.hexdigest()[:16]


def _stamp(path: str) -> bytes:
    try:
        info = os.stat(path)
    except OSError:
        return f"{path}:-\0".encode("utf-8", "surrogateescape")
    return f"{path}:{info.st_size}:{info.st_mtime_ns}\0".encode("utf-8", "surrogateescape")


def _package_folders() -> list[str]:
    import importlib.util

    folders = [str(Path(__file__).resolve().parents[1])]  # essence/
    spec = importlib.util.find_spec("models")
    if spec is not None and spec.submodule_search_locations:
        folders.extend(os.path.realpath(f) for f in spec.submodule_search_locations)
    return folders


def socket_path(folder: Path, key: str) -> Path:
    """Where the worker for `key` listens."""
    return folder / f"worker-{key}.sock"


def run_in_worker(argv: list[str]) -> int | None:
    """Run `argv` in the worker and return its exit status; None when it could not be
    handed over (nothing ran: the caller runs the command in-process)."""
    folder = runtime_dir()
    if folder is None:
        return None
    key = code_key()
    path = socket_path(folder, key)
    if len(os.fsencode(path)) > MAX_SOCKET_PATH or not _stdio_open():
        return None
    request = _request(argv, key)
    connection = _connect(path)
    if connection is None:
        connection = _wait_for_worker(path, _start_worker(path, key))
    if connection is None:
        return None
    with connection:
        child = _hand_over(connection, request)
        if child is None:
            return None
        return _wait_for_status(connection, child)


def _stdio_open() -> bool:
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
    except OSError:
        return False
    return True


def _stream(stream: object) -> dict[str, object]:
    """How Python set up one standard stream here, so the worker's child matches it."""
    return {
        "encoding": getattr(stream, "encoding", None) or "utf-8",
        "errors": getattr(stream, "errors", None) or "strict",
        "line_buffering": bool(getattr(stream, "line_buffering", False)),
        "write_through": bool(getattr(stream, "write_through", False)),
    }


def program_name(argv0: str) -> str:
    """The program name click shows in usage lines (click's own rule, without click)."""
    main_module = sys.modules.get("__main__")
    package = getattr(main_module, "__package__", None)
    if package in (None, ""):
        return os.path.basename(argv0)
    name = os.path.splitext(os.path.basename(argv0))[0]
    module = package if name == "__main__" else f"{package}.{name}"
    return f"python -m {module.lstrip('.')}"


def _request(argv: list[str], key: str) -> bytes:
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = ""
    umask = os.umask(0o077)
    os.umask(umask)
    body = {
        "key": key,
        "identity": identity(),
        "umask": umask,
        "argv": argv,
        "prog_name": program_name(argv[0] if argv else "essence"),
        "env": dict(os.environ),
        "cwd": cwd,
        "stdio": [_stream(sys.stdin), _stream(sys.stdout), _stream(sys.stderr)],
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogateescape")


def _connect(path: Path) -> socket.socket | None:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(ACCEPT_WAIT_S)
    try:
        connection.connect(str(path))
    except OSError:
        connection.close()
        return None
    return connection


def _start_worker(path: Path, key: str) -> Any:
    """Start the worker for `key`, detached (own session, no terminal, no inherited pipes)."""
    import subprocess

    boot = (
        "import json, sys; options = json.loads(sys.argv[1]); sys.path[:] = options['path']; "
        "from essence.cli.worker import serve; serve(options['socket'], options['key'])"
    )
    options = json.dumps({"path": sys.path, "socket": str(path), "key": key})
    try:
        return subprocess.Popen(
            [sys.executable, "-c", boot, options],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,
            cwd=path.parent,
        )
    except OSError:
        return None


def _wait_for_worker(path: Path, started: Any) -> socket.socket | None:
    """Connect once the worker listens; give up when it refused to serve (an exit status
    other than 0, which means another worker of the same key is starting) or in time."""
    deadline = time.monotonic() + START_WAIT_S
    while started is not None and time.monotonic() < deadline:
        connection = _connect(path) if path.exists() else None
        if connection is not None:
            return connection
        if started.poll() not in (None, 0):
            return None
        time.sleep(0.02)
    return None


def _hand_over(connection: socket.socket, request: bytes) -> int | None:
    """Send the request with our stdio; return the child's pid once it has started the
    command (None, with nothing run, when the worker does not take it in time)."""
    try:
        socket.send_fds(connection, [HEADER.pack(len(request))], [0, 1, 2])
        connection.sendall(request)
        reply = _receive(connection, 1 + STATUS.size)
        if reply is None or reply[:1] != b"P":
            return None
        connection.sendall(b"G")  # from here on the command runs there, never here too
    except OSError:
        return None
    return STATUS.unpack(reply[1:])[0]


def _wait_for_status(connection: socket.socket, child: int) -> int:
    """Forward interrupts to the child until it reports its exit status."""
    import signal

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(OSError):
            os.kill(child, signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    connection.settimeout(None)
    reply = _receive(connection, 1 + STATUS.size)
    if reply is None or reply[:1] != b"X":
        sys.stderr.write("error: the essence worker stopped before the command finished\n")
        return 1
    return STATUS.unpack(reply[1:])[0]


def _receive(connection: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        try:
            chunk = connection.recv(size - len(data))
        except InterruptedError:
            continue
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


if __name__ == "__main__":
    main()
