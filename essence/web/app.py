"""The essence web app: server-rendered pages with htmx, and the JSON API under /api/v1.

`create_app()` wires routers, error handlers, the language of each request and security
headers; the pages and the API call the same services as the CLI, acting as the signed-in
user. Redirects are always relative (never built from the Host header).
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from essence.domain.calendar import now_stockholm
from essence.domain.errors import EssenceError
from essence.web import (
    api,
    api_docs,
    case_form,
    case_pages,
    errors_i18n,
    i18n,
    ops,
    pages,
    planner,
    region,
    render,
    replan,
    terms,
    twin,
    worklist,
)
from essence.web.deps import WebState
from essence.web.middleware import PageDefaultsMiddleware
from essence.web.problems import (
    Problem,
    api_language,
    from_error,
    from_http,
    from_validation,
    problem,
    problem_response,
    status_of,
)


def create_app(
    database_url: str | None = None,
    *,
    clock: Callable[[], datetime] = now_stockholm,
    secure_cookies: bool = True,
    api_docs_enabled: bool | None = None,
) -> FastAPI:
    """Build the web app on a database (None: ESSENCE_DATABASE_URL or ./essence.db).

    Args:
        database_url: SQLAlchemy URL of an initialised essence database.
        clock: The current time (tests pass a fixed clock).
        secure_cookies: Send the session cookie only over HTTPS (and loopback in browsers).
        api_docs_enabled: Serve the API reference at /api/docs (None: the environment
            variable ESSENCE_WEB_API_DOCS=1 decides; off by default).
    """
    if api_docs_enabled is None:
        api_docs_enabled = os.environ.get("ESSENCE_WEB_API_DOCS", "") in ("1", "true", "yes")
    app = FastAPI(
        title="essence",
        version="1",
        summary="Coordinated ESSENCE assessments: cases, worklists and lead-time reports.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        redirect_slashes=False,
        lifespan=_warm_up,
    )
    app.state.web = WebState(
        database_url=database_url,
        clock=clock,
        secure_cookies=secure_cookies,
        api_docs=api_docs_enabled,
    )
    app.add_middleware(PageDefaultsMiddleware)
    app.mount("/static", StaticFiles(directory=str(files("essence.web") / "static")), "static")
    app.include_router(api.router)
    if api_docs_enabled:
        app.include_router(api_docs.router)
    for module in (pages, case_form, case_pages, worklist, planner, replan, region, twin):
        app.include_router(module.router)
    _install_error_handlers(app)
    ops.install(app)
    return app


@asynccontextmanager
async def _warm_up(app: FastAPI) -> AsyncIterator[None]:
    """Before the server takes requests: compile the templates and open the database; then
    move everything loaded so far out of the garbage collector's sight (`gc.freeze`): the
    libraries' ~180,000 long-lived objects made each full collection cost about 0.1 s, paid
    every few dozen requests."""
    await run_in_threadpool(render.prepare)
    await run_in_threadpool(app.state.web.warm_up)
    gc.collect()
    gc.freeze()
    yield


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _page_problem(status: int, detail: str) -> Problem:
    return problem(status, detail, title=terms.error_title(status))


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(pages.SignInNeeded)
    async def sign_in_needed(request: Request, error: pages.SignInNeeded) -> Response:
        target = pages.login_url(error.back_to)
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(EssenceError)
    async def essence_error(request: Request, error: EssenceError) -> Response:
        if _wants_json(request):
            language = api_language(request.headers.get("Accept-Language"))
            return problem_response(from_error(error, language), {"Content-Language": language})
        status, _title = status_of(error)
        return pages.error_page(request, _page_problem(status, errors_i18n.message(error)))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        item = from_validation(error)
        if _wants_json(request):
            return problem_response(item)
        last_part = (item.field or "?").rsplit(".", 1)[-1]
        detail = i18n.gettext("Something in the address or the form is not valid (%(field)s).")
        return pages.error_page(
            request,
            _page_problem(422, detail % {"field": errors_i18n.field_label(last_part)}),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        item = from_http(error)
        headers = getattr(error, "headers", None)
        if _wants_json(request):
            return problem_response(item, headers)
        if error.status_code == 404 and error.detail == "Not Found":
            item = _page_problem(404, i18n.gettext("This page does not exist."))
        elif error.status_code == 405:
            item = _page_problem(405, i18n.gettext("This page cannot be used that way."))
        else:
            item = _page_problem(item.status, item.detail)
        response = pages.error_page(request, item)
        response.headers.update(headers or {})
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, _error: Exception) -> Response:
        if _wants_json(request):
            return problem_response(
                problem(500, "something went wrong on the server; nothing was saved")
            )
        detail = i18n.gettext("Something went wrong on the server; nothing was saved.")
        return pages.error_page(request, _page_problem(500, detail))
