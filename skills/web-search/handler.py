"""web-search skill: SearXNG's JSON API, or Brave / Tavily when their keys are set."""

from __future__ import annotations

from typing import Any

import httpx

from skills.net import network_error
from skills.records import SkillContext, SkillError

__all__ = ["web_search"]

_MAX = 20


def _hit(title: Any, url: Any, snippet: Any) -> dict[str, str]:
    return {"title": str(title or ""), "url": str(url or ""), "snippet": str(snippet or "").strip()}


async def _searxng(client: httpx.AsyncClient, base: str, query: str) -> list[dict[str, str]]:
    response = await client.get(f"{base.rstrip('/')}/search", params={"q": query, "format": "json"})
    if response.status_code == 403:
        raise SkillError(
            f"SearXNG at {base} refused format=json (HTTP 403): enable 'json' under search.formats in its settings.yml",
            "backend_refused",
        )
    response.raise_for_status()
    items = response.json().get("results", [])
    return [_hit(i.get("title"), i.get("url"), i.get("content")) for i in items]


async def _brave(
    client: httpx.AsyncClient, url: str, key: str, query: str, n: int
) -> list[dict[str, str]]:
    response = await client.get(
        url,
        params={"q": query, "count": n},
        headers={"X-Subscription-Token": key, "Accept": "application/json"},
    )
    response.raise_for_status()
    items = (response.json().get("web") or {}).get("results", [])
    return [_hit(i.get("title"), i.get("url"), i.get("description")) for i in items]


async def _tavily(
    client: httpx.AsyncClient, url: str, key: str, query: str, n: int
) -> list[dict[str, str]]:
    response = await client.post(
        url, json={"query": query, "max_results": n}, headers={"Authorization": f"Bearer {key}"}
    )
    response.raise_for_status()
    items = response.json().get("results", [])
    return [_hit(i.get("title"), i.get("url"), i.get("content")) for i in items]


async def web_search(query: str, max_results: int = 5, *, context: SkillContext) -> list[dict]:
    """Search the web; return up to `max_results` (1-20) hits as dicts with keys title, url, snippet.

    Example: `web_search("python asyncio timeout", max_results=3)[0]["url"]`
    """
    if not query.strip():
        raise SkillError("query is empty", "bad_arguments")
    if max_results < 1:
        raise SkillError(f"max_results must be at least 1, got {max_results}", "bad_arguments")
    n = min(max_results, _MAX)
    cfg = context.settings
    searxng, brave, tavily = (
        cfg.get("searxng_url"),
        cfg.get("brave_api_key"),
        cfg.get("tavily_api_key"),
    )
    if not (searxng or brave or tavily):
        raise SkillError(
            "no web search backend configured: set SEARXNG_URL (a SearXNG instance with the JSON "
            "API on), or BRAVE_API_KEY, or TAVILY_API_KEY",
            "not_configured",
        )
    async with httpx.AsyncClient(timeout=float(cfg.get("timeout_s") or 15.0)) as client:
        if searxng:
            what, call = f"SearXNG at {searxng}", _searxng(client, searxng, query)
        elif brave:
            what, call = "Brave Search", _brave(client, cfg["brave_url"], brave, query, n)
        else:
            what, call = "Tavily", _tavily(client, cfg["tavily_url"], str(tavily), query, n)
        try:
            hits = await call
        except httpx.HTTPStatusError as exc:
            raise SkillError(
                f"{what} answered HTTP {exc.response.status_code}", "backend_error"
            ) from None
        except httpx.HTTPError as exc:
            raise network_error(exc, what) from None
        except ValueError as exc:
            raise SkillError(
                f"{what} sent a response that is not JSON: {exc}", "backend_error"
            ) from None
    return hits[:n]
