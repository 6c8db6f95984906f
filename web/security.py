"""Who is asking: session cookies for people, bearer tokens for `/api/`, and role guards.

`AuthMiddleware` runs for the whole app, so every route under `/api/v1` — including routes
other areas add later — answers 401 without a valid API token, before any handler runs.
A handler then states what it needs with `guards=[requires("<area>")]` (areas in
`appliance.auth.roles`: "config" is admin-only; "dashboard", "reports", "recordings",
"incidents", "status" are for supervisors too; "own" and "report" for operators as well).
Panel pages are closed behind the first-boot wizard until it has been finished.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection, Request
from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.response import Response
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.types import ASGIApp, Guard, Receive, Scope, Send

from appliance.auth import COOKIE, Auth, Principal

API_PREFIX = "/api/"
PUBLIC = ("/static/", "/healthz", "/schema", "/favicon.ico")
OPEN_BEFORE_SETUP = (*PUBLIC, "/setup", "/login", "/logout")


def client_address(scope: Scope) -> str:
    """The peer's address (the panel is served directly, not behind a proxy: no forwarded headers)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class AuthMiddleware(ASGIMiddleware):
    """Puts the `Principal` (or None) in `scope["user"]`; refuses `/api/` without a valid token."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, auth: Auth) -> None:
        self.auth = auth

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Authenticate the request, gate the panel behind set-up, then call the app."""
        path: str = scope["path"]
        if path.startswith(API_PREFIX):
            principal = await self._bearer(Headers.from_scope(scope).get("authorization", ""))
            if principal is None:
                response: Response[Any] = Response(
                    {"status_code": 401, "detail": "A valid API token is required (Authorization: Bearer ...)."},
                    status_code=401, headers={"WWW-Authenticate": 'Bearer realm="callbox"'})
                await response.to_asgi_response(None, Request(scope))(scope, receive, send)
                return
        else:
            cookie = Request(scope).cookies.get(COOKIE)
            principal = await self.auth.sessions.resolve(cookie) if cookie else None
            if not path.startswith(OPEN_BEFORE_SETUP) and not await self.auth.first_boot.done():
                await self._to_setup(scope, receive, send)
                return
        scope["user"] = principal
        scope["auth"] = principal.via if principal else None
        await next_app(scope, receive, send)

    async def _bearer(self, header: str) -> Principal | None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return await self.auth.tokens.resolve(token.strip())

    @staticmethod
    async def _to_setup(scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers.from_scope(scope)
        if headers.get("hx-request"):
            response: Response[Any] = Response(None, headers={"HX-Redirect": "/setup"})
        else:
            response = Response(None, status_code=HTTP_303_SEE_OTHER, headers={"Location": "/setup"})
        await response.to_asgi_response(None, Request(scope))(scope, receive, send)


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The request's principal, or None when nobody is signed in."""
    user = connection.scope.get("user")
    return user if isinstance(user, Principal) else None


def requires(area: str) -> Guard:
    """A guard: 401 when nobody is signed in, 403 when the role may not use `area`."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if principal is None:
            raise NotAuthorizedException("Please sign in.")
        if not principal.may(area):
            raise PermissionDeniedException("Your role cannot use this page.")

    return guard
