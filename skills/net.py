"""Network helpers for the web skills: failures named plainly, and the http_fetch allow-list."""

from __future__ import annotations

import errno
import fnmatch
import socket
from urllib.parse import urlsplit

import httpx

from skills.records import SkillError

__all__ = ["NetworkError", "host_allowed", "network_error"]


class NetworkError(SkillError):
    """A request that did not get an HTTP answer; `code` says why (refused, dns, timeout...)."""


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def network_error(exc: httpx.HTTPError, what: str) -> NetworkError:
    """Name why `what` (e.g. 'SearXNG at http://...') could not be reached."""
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain).lower()
    if isinstance(exc, httpx.TimeoutException) or any(isinstance(e, TimeoutError) for e in chain):
        return NetworkError(f"{what}: timed out ({type(exc).__name__})", "network_timeout")
    dns = any(isinstance(e, socket.gaierror) for e in chain) or any(
        marker in text
        for marker in (
            "name or service not known",
            "nodename nor servname",
            "temporary failure in name resolution",
            "no address associated",
        )
    )
    if dns:
        again = "temporary failure" in text or any(
            isinstance(e, socket.gaierror) and e.errno == socket.EAI_AGAIN for e in chain
        )
        why = "no DNS server answered" if again else "host name not found"
        return NetworkError(f"{what}: DNS lookup failed ({why})", "network_dns")
    refused = (
        any(
            isinstance(e, ConnectionRefusedError)
            or (isinstance(e, OSError) and e.errno == errno.ECONNREFUSED)
            for e in chain
        )
        or "connection refused" in text
        or "connect call failed" in text
    )
    if refused:
        return NetworkError(
            f"{what}: connection refused (nothing listens there)", "network_refused"
        )
    if isinstance(exc, httpx.ConnectError):
        return NetworkError(f"{what}: cannot connect: {exc}", "network_unreachable")
    return NetworkError(f"{what}: {type(exc).__name__}: {exc}", "network_error")


def host_allowed(url: str, patterns: list[str]) -> bool:
    """Whether the URL's host (or host:port) matches an allow-list entry ('*.example.org' too)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return False
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    port = parts.port or default_port
    for raw in patterns:
        pattern = raw.strip().lower()
        if ":" in pattern and not pattern.startswith("["):
            want_host, _, want_port = pattern.rpartition(":")
            if (
                want_port.isdigit()
                and int(want_port) == port
                and fnmatch.fnmatchcase(host, want_host)
            ):
                return True
            continue
        if fnmatch.fnmatchcase(host, pattern):
            return True
    return False
