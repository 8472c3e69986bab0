"""Logging, configured once for the CLI, the web app and the flows (stdlib `logging`).

Text lines for people, JSON lines for servers (``ESSENCE_LOG_FORMAT=json``, through
python-json-logger). Every line carries the request id of the web request or command it
belongs to. As a second line of defence, anything shaped like a personnummer is masked
before a line is written; names are never logged in the first place.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import Literal

from essence.services.tracing import current_request_id

Mode = Literal["cli", "server"]
_HANDLER_NAME = "essence"
# 12 or 10 digits, optionally with - or + before the last four (YYYYMMDD-NNNN, YYMMDD-NNNN).
_PERSONNUMMER = re.compile(r"(?<!\d)(\d{6}|\d{8})[-+]?\d{4}(?!\d)")


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the moment (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True


class PersonnummerMask(logging.Filter):
    """Masks anything shaped like a personnummer in the formatted message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _PERSONNUMMER.search(message):
            record.msg = _PERSONNUMMER.sub(lambda m: m.group(1) + "-****", message)
            record.args = None
        return True


def _formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(process)d %(request_id)s %(message)s",
            rename_fields={
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "process": "pid",
            },
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
    return logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )


def configure_logging(mode: Mode = "server", *, force: bool = False) -> None:
    """Install essence's handler on the root logger (once per process).

    Environment:
        ESSENCE_LOG_LEVEL: DEBUG, INFO, WARNING … (default INFO for servers, WARNING for
            the CLI so interactive output stays clean).
        ESSENCE_LOG_FORMAT: ``text`` (default) or ``json`` (one JSON object per line).
        ESSENCE_LOG_FILE: Append to this file instead of writing to stderr.

    Args:
        mode: ``server`` (web app, Prefect worker) or ``cli``.
        force: Replace an earlier configuration (tests change the environment).
    """
    root = logging.getLogger()
    existing = [h for h in root.handlers if h.get_name() == _HANDLER_NAME]
    if existing and not force:
        return
    for handler in existing:
        root.removeHandler(handler)
        handler.close()
    default_level = "INFO" if mode == "server" else "WARNING"
    level = os.environ.get("ESSENCE_LOG_LEVEL", default_level).upper()
    fmt = os.environ.get("ESSENCE_LOG_FORMAT", "text").lower()
    path = os.environ.get("ESSENCE_LOG_FILE")
    handler: logging.Handler = (
        logging.FileHandler(path, encoding="utf-8") if path else StderrHandler()
    )
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(_formatter(fmt))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(PersonnummerMask())
    root.addHandler(handler)
    root.setLevel(logging.getLevelNamesMapping().get(level, logging.INFO))
    for noisy in ("uvicorn.access", "httpx", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
