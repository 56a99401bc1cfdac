"""The Gradio app behind the REST API's keys (when keys are set).

Gradio's `auth_dependency` names the caller on every Gradio route (the page, its queue, uploads,
files, the API): the key comes as `Authorization: Bearer` / `x-api-key` (gradio_client, scripts)
or from the cookie set by `/login` (a browser). Without a key the page redirects to `/login`,
a form served here with no outside resources; the other Gradio routes answer 401.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from agent.http.auth import KeyRing, key_from_headers

__all__ = ["COOKIE", "LoginRedirect", "add_login", "caller"]

COOKIE = "agent_key"
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


def _key(request: Request) -> str | None:
    headers = request.headers
    presented = key_from_headers(headers.get("authorization"), headers.get("x-api-key"))
    return presented or request.cookies.get(COOKIE)


def caller(keyring: KeyRing) -> Callable[[Request], str | None]:
    """Gradio's auth dependency: the key's id (the owner of what the caller makes), or None."""

    def who(request: Request) -> str | None:
        return keyring.owner_for(_key(request))

    return who


def add_login(app: FastAPI, keyring: KeyRing) -> None:
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
        if keyring.owner_for(key.strip()) is None:
            return page("Unknown API key.", status=401)
        answer = RedirectResponse("/", status_code=303)
        answer.set_cookie(
            COOKIE,
            key.strip(),
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

    def __init__(self, app: ASGIApp, *, keyring: KeyRing) -> None:
        self.app = app
        self.keyring = keyring

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == "/":
            request = Request(scope)
            if self.keyring.owner_for(_key(request)) is None:
                await RedirectResponse("/login", status_code=303)(scope, receive, send)
                return
        await self.app(scope, receive, send)
