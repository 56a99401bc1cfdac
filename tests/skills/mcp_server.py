"""A real MCP server (FastMCP) for the skill suites: `python mcp_server.py [--http PORT] [--tools N]`.

Over stdio by default; `--http PORT` serves streamable HTTP at http://127.0.0.1:PORT/mcp.
`--tools N` adds N generated tools (for catalog-size runs); `--offset K` starts them at number K
(so several servers differ); `--no-fixed` leaves out the five fixed ones the suites call.
"""

# no `from __future__ import annotations`: FastMCP evaluates the generated tools' hints, which
# name local variables
import argparse
import os
from typing import Annotated, Any

from mcp.server.fastmcp import FastMCP
from pydantic import Field

VERBS = ["get", "list", "create", "update", "delete", "search", "archive", "export", "count", "sync"]  # fmt: skip
NOUNS = [
    "issue", "pull_request", "branch", "commit", "release", "user", "team", "project", "label",
    "milestone", "comment", "webhook", "deployment", "secret", "artifact", "workflow", "runner",
    "package", "discussion", "gist", "invoice", "customer", "order", "payment", "refund",
    "subscription", "product", "coupon", "shipment", "ticket", "incident", "alert", "dashboard",
    "metric", "log_stream", "bucket", "object", "queue", "topic", "table", "index", "snapshot",
    "volume", "cluster", "node", "pod", "service", "route", "certificate", "domain",
]  # fmt: skip


def _add_generated(server: FastMCP, index: int) -> None:
    """Tool `index` of a GitHub/Stripe/cloud-like catalog: `<verb>_<noun>[_<n>]`, three parameters."""
    verb, noun = VERBS[index % len(VERBS)], NOUNS[(index // len(VERBS)) % len(NOUNS)]
    suffix = index // (len(VERBS) * len(NOUNS))
    name = f"{verb}_{noun}" + (f"_{suffix}" if suffix else "")
    thing = noun.replace("_", " ")

    def tool(
        query: Annotated[str, Field(description=f"Which {thing} records: an id, or a filter.")],
        limit: Annotated[int, Field(description="At most this many records.")] = 20,
        fields: Annotated[
            list[str] | None, Field(description="Fields to return; all when omitted.")
        ] = None,
    ) -> dict[str, Any]:
        return {"tool": name, "query": query, "limit": limit, "fields": fields or []}

    description = (
        f"{verb.capitalize()} {thing} records of the connected account. Filters by `query` "
        f"(an id, or field:value terms), returns up to `limit` records with the chosen `fields`."
    )
    server.add_tool(tool, name=name, description=description)


def build(port: int, extra_tools: int, fixed: bool = True, offset: int = 0) -> FastMCP:
    server = FastMCP("test-tools", host="127.0.0.1", port=port, log_level="WARNING")
    for index in range(offset, offset + extra_tools):
        _add_generated(server, index)
    if fixed:
        _add_fixed(server)
    return server


def _add_fixed(server: FastMCP) -> None:
    """The tools the suites call: typed results, a text result, a tool error, pid and crash."""

    @server.tool()
    def add(a: int, b: int = 1) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def echo(text: str, times: int = 1) -> str:
        """Repeat a text."""
        return text * times

    @server.tool()
    def lookup(key: str) -> dict:
        """Look a key up in a small table."""
        table = {"alpha": {"id": 1, "tags": ["a"]}, "beta": {"id": 2, "tags": []}}
        if key not in table:
            raise ValueError(f"no entry {key!r}")
        return table[key]

    @server.tool()
    def pid() -> int:
        """The server process id."""
        return os.getpid()

    @server.tool()
    def crash() -> str:
        """Exit the server process at once (tests reconnection)."""
        os._exit(3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, default=0)
    parser.add_argument("--tools", type=int, default=0)
    parser.add_argument("--no-fixed", action="store_true", help="only the generated tools")
    parser.add_argument("--offset", type=int, default=0, help="generate from this tool number")
    options = parser.parse_args()
    server = build(options.http or 8000, options.tools, not options.no_fixed, options.offset)
    server.run("streamable-http" if options.http else "stdio")


if __name__ == "__main__":
    main()
