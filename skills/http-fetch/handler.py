"""http-fetch skill: allow-listed GET, HTML turned into text with BeautifulSoup, size-capped."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx
from bs4 import BeautifulSoup

from skills.net import host_allowed, network_error
from skills.records import SkillContext, SkillError

__all__ = ["html_to_text", "http_fetch"]

_MAX_REDIRECTS = 5
_TEXTUAL = ("text/", "application/json", "application/xml", "application/xhtml", "+json", "+xml")


def html_to_text(html: str) -> str:
    """Readable text of an HTML page: title first, no scripts, styles or navigation."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "svg", "nav", "footer"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    text = soup.get_text("\n")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.splitlines()]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return f"{title}\n\n{body}" if title else body


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = max(limit // 2, 1)
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters cut ...]\n{text[-half:]}"


async def _get(
    client: httpx.AsyncClient, url: str, max_bytes: int
) -> tuple[httpx.Response, bytes, bool]:
    async with client.stream("GET", url) as response:
        chunks: list[bytes] = []
        size = 0
        truncated = False
        if not response.is_redirect:
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= max_bytes:
                    truncated = True
                    break
        return response, b"".join(chunks)[:max_bytes], truncated


async def http_fetch(url: str, max_chars: int = 20000, *, context: SkillContext) -> str:
    """GET `url` (http/https, allow-listed hosts only) and return the page as plain text.

    HTML becomes readable text; long pages are cut to `max_chars` keeping head and tail.
    """
    settings = context.settings
    allow: list[str] = list(settings.get("allow_hosts") or [])
    max_bytes = int(settings.get("max_bytes") or 2_000_000)
    if urlsplit(url).scheme not in ("http", "https"):
        raise SkillError(f"only http and https URLs can be fetched, got {url!r}", "bad_arguments")
    headers = {"User-Agent": "agent-system http_fetch", "Accept": "text/html,text/plain,*/*;q=0.5"}
    async with httpx.AsyncClient(
        timeout=float(settings.get("timeout_s") or 20.0), follow_redirects=False, headers=headers
    ) as client:
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            if not host_allowed(current, allow):
                host = urlsplit(current).netloc
                shown = ", ".join(allow) if allow else "empty"
                raise SkillError(
                    f"{host} is not on the http_fetch allow-list ({shown}); add it to "
                    "http_fetch_allow_hosts in config/skills.yaml",
                    "host_not_allowed",
                )
            try:
                response, body, truncated = await _get(client, current, max_bytes)
            except httpx.HTTPError as exc:
                raise network_error(exc, f"fetching {current}") from None
            if not response.is_redirect:
                break
            current = urljoin(current, response.headers.get("location", ""))
        else:
            raise SkillError(
                f"more than {_MAX_REDIRECTS} redirects from {url}", "too_many_redirects"
            )
    if response.status_code >= 400:
        raise SkillError(
            f"HTTP {response.status_code} {response.reason_phrase} from {current}", "http_status"
        )
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and not any(marker in kind for marker in _TEXTUAL):
        raise SkillError(f"{current} is {kind} ({len(body)} bytes), not text", "not_text")
    text = body.decode(response.encoding or "utf-8", errors="replace")
    if kind in ("text/html", "application/xhtml+xml") or (
        not kind and "<html" in text[:500].lower()
    ):
        text = html_to_text(text)
    if truncated:
        text += f"\n[... body cut at {max_bytes} bytes ...]"
    return _cut(text, max(100, max_chars))
