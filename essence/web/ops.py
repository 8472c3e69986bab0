"""Operations endpoints and plumbing: request ids, access log, /healthz and /metrics.

`install(app)` adds an ASGI middleware that gives every request an id (or adopts a plain
``X-Request-ID`` from the proxy), returns it as a header, times the request per route
template and logs one line about it; and the two endpoints. Neither endpoint shows personal
data; /metrics answers only on the loopback address (not through a proxy) or to
``Authorization: Bearer $ESSENCE_METRICS_TOKEN``.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram
from prometheus_client import generate_latest as render_metrics
from prometheus_client.core import GaugeMetricFamily

from essence.domain.errors import EssenceError
from essence.logging_setup import configure_logging
from essence.services.tracing import request_scope

access_log = logging.getLogger("essence.web.access")
router = APIRouter(include_in_schema=False)
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_PROCESS_REGISTRY = CollectorRegistry()
REQUEST_SECONDS = Histogram(
    "essence_http_request_duration_seconds",
    "Time to answer a web request, in seconds, per route template, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=_PROCESS_REGISTRY,
)


def install(app: FastAPI) -> None:
    """Add the request-id middleware, /healthz and /metrics to `app`; configure logging."""
    configure_logging("server")
    app.add_middleware(RequestContextMiddleware)
    app.include_router(router)


class RequestContextMiddleware:
    """Request id, timing and one access-log line per HTTP request (pure ASGI)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        status = [500]
        with request_scope(incoming) as request_id:

            async def send_with_id(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                    message.setdefault("headers", [])
                    message["headers"] = [
                        *message["headers"],
                        (b"x-request-id", request_id.encode()),
                    ]
                await send(message)

            started = time.perf_counter()
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                route = getattr(scope.get("route"), "path", None) or "(unmatched)"
                method = scope.get("method", "")
                REQUEST_SECONDS.labels(route, method, str(status[0])).observe(seconds)
                access_log.info(
                    "%s %s %s %.1f ms",
                    method,
                    route,
                    status[0],
                    seconds * 1000,
                    extra={
                        "method": method,
                        "route": route,
                        "status": status[0],
                        "duration_ms": round(seconds * 1000, 1),
                    },
                )


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """200 when the database answers and its schema is at the code's head; 503 with the
    reason otherwise (for load balancers and systemd watchdogs, so in English, the
    error's own message)."""
    from essence import bootstrap

    url = request.app.state.web.database_url
    try:
        revision, head, problem = bootstrap.schema_status(url)
    except EssenceError as error:
        return JSONResponse({"status": "unavailable", "reason": str(error)}, status_code=503)
    body = {"status": "ok", "database": "reachable", "revision": revision, "head": head}
    if problem is not None:
        body.update(status="unavailable", reason=f"database {problem}")
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


def metrics_allowed(request: Request) -> bool:
    """Loopback callers that did not come through a proxy, or the bearer of the token."""
    token = os.environ.get("ESSENCE_METRICS_TOKEN", "")
    given = request.headers.get("authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    proxied = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    client = request.client.host if request.client else ""
    return not proxied and client in _LOOPBACK


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text format: request latency per route, cases by state, overdue steps,
    steps not scheduled yet, time of the last sweep."""
    if not metrics_allowed(request):
        return JSONResponse(
            {"status": 403, "detail": "metrics are served to localhost or with the token"},
            status_code=403,
        )
    body = render_metrics(_request_registry()) + render_metrics(_work_registry(request))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _request_registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return _PROCESS_REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # sums the histograms of every worker
    return registry


def _work_registry(request: Request) -> CollectorRegistry:
    """The figures of the work, read from the database at this scrape (metric families, not
    value-backed gauges, so they never land in the multiprocess directory)."""
    from essence import bootstrap
    from essence.services.operations import ops_figures

    families: list[GaugeMetricFamily] = []
    up = GaugeMetricFamily("essence_database_up", "1 when the database answered this scrape.")
    families.append(up)
    try:
        figures = ops_figures(bootstrap.context(database_url=request.app.state.web.database_url))
    except EssenceError:
        up.add_metric([], 0)
        return _registry_of(families)
    up.add_metric([], 1)
    cases = GaugeMetricFamily("essence_cases", "Cases per case state.", labels=["state"])
    for state, count in sorted(figures.cases_by_state.items()):
        cases.add_metric([state], count)
    families.append(cases)
    families.append(
        GaugeMetricFamily(
            "essence_steps_not_scheduled",
            "Steps of open cases still to do with no booked appointment.",
            value=figures.steps_not_scheduled,
        )
    )
    if figures.overdue_steps is not None:
        families.append(
            GaugeMetricFamily(
                "essence_overdue_steps",
                "Overdue steps found by the last sweep.",
                value=figures.overdue_steps,
            )
        )
    if figures.last_sweep_at is not None:
        families.append(
            GaugeMetricFamily(
                "essence_last_sweep_timestamp_seconds",
                "Unix time of the last daily sweep.",
                value=figures.last_sweep_at.timestamp(),
            )
        )
    return _registry_of(families)


class _Families:
    """A collector that yields prepared metric families once."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> list[GaugeMetricFamily]:
        return self.families


def _registry_of(families: list[GaugeMetricFamily]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))  # type: ignore[arg-type]
    return registry
