"""A plain reference of the JSON API at /api/docs, rendered on the server from the OpenAPI
schema: no third-party scripts, no inline script (served only when enabled)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from essence.web.render import render

router = APIRouter(include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")


@router.get("/api/docs", response_class=HTMLResponse)
def api_reference(request: Request) -> HTMLResponse:
    """Every operation of /api/v1 with its summary (the schema is at /api/v1/openapi.json)."""
    schema = request.app.openapi()
    operations = [
        {"method": method.upper(), "path": path, "summary": item.get("summary", ""),
         "description": item.get("description", "")}
        for path, entry in schema.get("paths", {}).items()
        for method, item in entry.items()
        if method in METHODS
    ]  # fmt: skip
    return render(request, "api_docs.html", None, operations=operations, title=schema["info"])
