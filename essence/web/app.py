"""The essence web app: server-rendered pages with htmx, and the JSON API under /api/v1.

`create_app()` wires routers, error handlers and security headers; the pages and the API
call the same services as the CLI, acting as the signed-in user.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from essence.domain.calendar import now_stockholm
from essence.domain.errors import EssenceError
from essence.web import api, ops, pages, planner
from essence.web.deps import WebState
from essence.web.problems import (
    from_error,
    from_http,
    from_validation,
    problem,
    problem_response,
)
from essence.web.security import security_headers


def create_app(
    database_url: str | None = None,
    *,
    clock: Callable[[], datetime] = now_stockholm,
    secure_cookies: bool = True,
) -> FastAPI:
    """Build the web app on a database (None: ESSENCE_DATABASE_URL or ./essence.db).

    Args:
        database_url: SQLAlchemy URL of an initialised essence database.
        clock: The current time (tests pass a fixed clock).
        secure_cookies: Send the session cookie only over HTTPS (and loopback in browsers).
    """
    app = FastAPI(
        title="essence",
        version="1",
        summary="Coordinated ESSENCE assessments: cases, worklists and lead-time reports.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.web = WebState(database_url=database_url, clock=clock, secure_cookies=secure_cookies)
    app.middleware("http")(security_headers)
    app.mount("/static", StaticFiles(directory=str(files("essence.web") / "static")), "static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(planner.router)
    _install_error_handlers(app)
    ops.install(app)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EssenceError)
    async def essence_error(request: Request, error: EssenceError) -> Response:
        item = from_error(error)
        if _wants_json(request):
            return problem_response(item)
        return pages.error_page(request, item)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        item = from_validation(error)
        if _wants_json(request):
            return problem_response(item)
        return pages.error_page(request, item)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        item = from_http(error)
        if _wants_json(request):
            return problem_response(item, getattr(error, "headers", None))
        if error.status_code == 401:
            return RedirectResponse("/login", status_code=303)
        return pages.error_page(request, item)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, _error: Exception) -> Response:
        item = problem(500, "something went wrong on the server; nothing was saved")
        if _wants_json(request):
            return problem_response(item)
        return pages.error_page(request, item)
