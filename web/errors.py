"""The appliance's error tree mapped to HTTP in one place: JSON for the API, pages or toasts for people."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.response import Redirect, Response
from litestar.types import ExceptionHandlersMap

from appliance.errors import CallboxError, NotFoundError, UserError
from appliance.forms import FieldErrors
from web.render import is_partial, render_now
from web.security import API_PREFIX

log = logging.getLogger(__name__)


def _api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith(API_PREFIX)


def _show(request: Request[Any, Any, Any], status: int, title: str, message: str) -> Response[Any]:
    if _api(request):
        return Response({"status_code": status, "detail": message}, status_code=status)
    if is_partial(request):  # an htmx action went wrong: tell the person in the toast area
        return render_now(request, "error.html", block="toast", status=status, title=title, message=message,
                            headers={"HX-Retarget": "#toast", "HX-Reswap": "innerHTML"})
    return render_now(request, "error.html", status=status, title=title, message=message)


def not_signed_in(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    """401: the API says so; a page sends the person to sign in and back."""
    if _api(request):
        return Response({"status_code": 401, "detail": exc.detail}, status_code=401,
                        headers={"WWW-Authenticate": 'Bearer realm="callbox"'})
    target = "/login?next=" + quote(request.url.path)
    if request.headers.get("hx-request"):
        return Response(None, headers={"HX-Redirect": target})
    return Redirect(target)


def forbidden(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[Any]:
    """403: a role that may not, or a form without a valid CSRF token."""
    message = exc.detail
    if "CSRF" in message:
        message = "This form has expired or did not come from this panel. Reload the page and try again."
    return _show(request, 403, "Not allowed", message)


def field_errors(request: Request[Any, Any, Any], exc: FieldErrors) -> Response[Any]:
    """422 with every field's message (pages catch these themselves to redraw their form)."""
    if _api(request):
        return Response({"status_code": 422, "detail": str(exc), "errors": exc.errors}, status_code=422)
    return _show(request, 422, "Please check the form", str(exc))


def user_error(request: Request[Any, Any, Any], exc: UserError) -> Response[Any]:
    """400 (404 for a thing that does not exist) with the message as it is."""
    status = 404 if isinstance(exc, NotFoundError) else 400
    return _show(request, status, "Not found" if status == 404 else "That did not work", str(exc))


def internal(request: Request[Any, Any, Any], exc: CallboxError) -> Response[Any]:
    """500 for a failure inside the appliance (e.g. the SIP engine), logged with its cause."""
    log.error("%s %s failed: %s", request.method, request.url.path, exc)
    return _show(request, 500, "The box could not do that", str(exc))


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Other HTTP errors (404 for unknown pages, 400 for bad API bodies) in the panel's look."""
    if _api(request):
        body: dict[str, Any] = {"status_code": exc.status_code, "detail": exc.detail}
        if getattr(exc, "extra", None):
            body["extra"] = exc.extra
        return Response(body, status_code=exc.status_code, headers=exc.headers)
    title = "Page not found" if exc.status_code == 404 else "Request refused"
    return _show(request, exc.status_code, title, exc.detail)


HANDLERS: ExceptionHandlersMap = {
    NotAuthorizedException: not_signed_in,
    PermissionDeniedException: forbidden,
    FieldErrors: field_errors,
    UserError: user_error,
    CallboxError: internal,
    HTTPException: http_error,
}
