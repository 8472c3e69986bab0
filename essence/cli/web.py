"""`essence web`: serve the web app (pages and the JSON API) with uvicorn.

FastAPI and uvicorn are imported only when the command runs, so the CLI starts fast.
"""

from __future__ import annotations

from typing import Annotated

import typer


def web_command(
    host: Annotated[
        str, typer.Option(help="Address to listen on (loopback by default; put TLS in front).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=32,
            help="Worker processes (sessions and runs live in the database, so any worker "
            "can answer any request).",
        ),
    ] = 1,
) -> None:
    """Serve the web app for coordinators, clinicians and planners (Ctrl+C stops it)."""
    import uvicorn

    from essence import bootstrap
    from essence.logging_setup import configure_logging
    from essence.services.tracing import clear_request_id

    bootstrap.context()  # refuses, in one line, a database that is unreachable, behind or ahead
    configure_logging("server", force=True)
    clear_request_id()
    if workers == 1:
        from essence.web.app import create_app

        uvicorn.run(create_app(), host=host, port=port, log_config=None, access_log=False)
        return
    uvicorn.run(
        "essence.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )
