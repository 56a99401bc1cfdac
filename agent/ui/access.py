"""The Gradio app behind the REST API's keys (when keys are set).

Gradio's `auth_dependency` names the caller on every Gradio route (the page, its queue, uploads,
files, the API): a key comes as `Authorization: Bearer` / `x-api-key` (gradio_client, scripts),
or a browser brings the cookie `/login` set. The cookie does not hold the key: it holds the key's
id, an expiry and an HMAC over both and the key's stored hash, under AGENT_SESSION_SECRET (a random
secret of this process when unset), so a stolen cookie is not an API key, and a key removed from
the keys file ends its sign-ins. Without a key the page redirects to `/login`, a form served here
with no outside resources; the other Gradio routes answer 401.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import secrets
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from agent.http.auth import KeyRing, key_from_headers

__all__ = ["COOKIE", "LoginRedirect", "SignIn", "add_login", "caller"]

log = logging.getLogger(__name__)

COOKIE = "agent_session"
COOKIE_MAX_AGE_S = 7 * 24 * 3600

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Agent System: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; display: grid; place-items: center; min-height: 90vh; }}
form {{ display: grid; gap: .6rem; min-width: 20rem; }}
input, button {{ font: inherit; padding: .5rem; }}
.error {{ color: #b00020; }}
</style></head>
<body><form method="post" action="/login">
<h1>Agent System</h1>
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" autofocus required>
{error}
<button type="submit">Sign in</button>
</form></body></html>
"""


class SignIn:
    """Who a Gradio request comes from: a key in its headers, or a valid sign-in cookie."""

    def __init__(self, keyring: KeyRing, secret: str | None = None) -> None:
        self.keyring = keyring
        if not secret:
            log.info(
                "AGENT_SESSION_SECRET is not set: browser sign-ins last until this server stops "
                "and hold on this instance only"
            )
        self._secret = secret.encode() if secret else secrets.token_bytes(32)

    def _mac(self, owner: str, expires: int) -> str:
        key = self.keyring.key(owner)
        digest = key.digest if key is not None else b""
        message = f"{owner}.{expires}.".encode() + digest
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def cookie(self, owner: str, now: float | None = None) -> str:
        expires = int((now or time.time()) + COOKIE_MAX_AGE_S)
        return f"{owner}.{expires}.{self._mac(owner, expires)}"

    def cookie_owner(self, value: str | None, now: float | None = None) -> str | None:
        """The key id a cookie was issued for, while it is unexpired, well signed and the key
        is still known; else None."""
        parts = (value or "").rsplit(".", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        owner, expires, mac = parts[0], int(parts[1]), parts[2]
        if expires < (now or time.time()) or self.keyring.key(owner) is None:
            return None
        return owner if hmac.compare_digest(mac, self._mac(owner, expires)) else None

    def owner(self, request: Request) -> str | None:
        headers = request.headers
        presented = key_from_headers(headers.get("authorization"), headers.get("x-api-key"))
        if presented:
            return self.keyring.owner_for(presented)
        return self.cookie_owner(request.cookies.get(COOKIE))


def caller(sign_in: SignIn) -> Callable[[Request], str | None]:
    """Gradio's auth dependency: the key's id (the owner of what the caller makes), or None."""

    def who(request: Request) -> str | None:
        return sign_in.owner(request)

    return who


def add_login(app: FastAPI, sign_in: SignIn) -> None:
    """`GET/POST /login` and `GET /logout` on the parent app (before Gradio is mounted)."""

    def page(error: str = "", status: int = 200) -> HTMLResponse:
        note = f'<p class="error">{html.escape(error)}</p>' if error else ""
        return HTMLResponse(
            _PAGE.format(error=note), status_code=status, headers={"Cache-Control": "no-store"}
        )

    @app.get("/login", include_in_schema=False)
    async def login_form() -> HTMLResponse:
        return page()

    @app.post("/login", include_in_schema=False)
    async def login(request: Request, key: Annotated[str, Form(max_length=512)]) -> Response:
        owner = sign_in.keyring.owner_for(key.strip())
        if owner is None:
            return page("Unknown API key.", status=401)
        answer = RedirectResponse("/", status_code=303)
        answer.set_cookie(
            COOKIE,
            sign_in.cookie(owner),
            max_age=COOKIE_MAX_AGE_S,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return answer

    @app.get("/logout", include_in_schema=False)
    async def logout() -> Response:
        answer = RedirectResponse("/login", status_code=303)
        answer.delete_cookie(COOKIE)
        return answer


class LoginRedirect:
    """A browser asking for the page without a valid key is sent to `/login` (Gradio itself
    would answer 401 JSON)."""

    def __init__(self, app: ASGIApp, *, sign_in: SignIn) -> None:
        self.app = app
        self.sign_in = sign_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == "/":
            request = Request(scope)
            if self.sign_in.owner(request) is None:
                await RedirectResponse("/login", status_code=303)(scope, receive, send)
                return
        await self.app(scope, receive, send)
