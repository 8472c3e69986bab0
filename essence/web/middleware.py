"""The page defaults every response gets: the request's language and the security headers.

A pure ASGI middleware: Starlette's `BaseHTTPMiddleware` runs each request in an extra task
with a body stream, more machinery than setting a language and adding headers needs.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import cookie_parser

from essence.web import i18n
from essence.web.security import SECURITY_HEADERS

_FIXED_HEADERS = [(key.lower().encode(), value.encode()) for key, value in SECURITY_HEADERS.items()]
_VARY = (b"vary", b"Accept-Language, Cookie")


def request_language(headers: dict[bytes, bytes]) -> str:
    """Swedish unless the user chose English (cookie) or the browser prefers it."""
    cookies = cookie_parser(headers.get(b"cookie", b"").decode("latin-1"))
    chosen = cookies.get(i18n.LANGUAGE_COOKIE)
    if chosen not in i18n.LANGUAGES:
        accept = headers.get(b"accept-language", b"").decode("latin-1")
        chosen = i18n.from_accept_language(accept)
    return chosen or i18n.DEFAULT_LANGUAGE


class PageDefaultsMiddleware:
    """Sets the request's language before the app runs; adds Content-Language, Vary and the
    security headers (CSP, no-sniff, frame-deny, no caching) unless the response set them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        i18n.set_language(request_language(dict(scope.get("headers") or [])))

        async def send_with_defaults(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _value in headers}
                defaults = [
                    *_FIXED_HEADERS,
                    (b"content-language", i18n.current_language().encode()),
                    _VARY,
                ]
                headers.extend(item for item in defaults if item[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_defaults)
