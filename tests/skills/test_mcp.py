"""MCP servers as skills, against real `mcp` SDK server processes over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import psutil
import pytest

from skills import SkillContext, SkillRegistry, SkillsConfig
from skills.prompt import estimate_tokens
from tests.skills.fake_web import free_port
from tests.skills.mcp_server_process import PYTHON, SERVER, HttpMcpServer, serve_http_mcp

pytestmark = pytest.mark.slow

BAD_START = "import sys; print('config file missing: /etc/tool.yaml', file=sys.stderr); sys.exit(2)"


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


async def until(predicate: Callable[[], object], within_s: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail("condition not reached in time")
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpMcpServer]:
    with serve_http_mcp(tmp_path_factory.mktemp("mcp-http")) as server:
        yield server


@pytest.fixture(scope="module")
async def registry(http_server: HttpMcpServer) -> AsyncIterator[SkillRegistry]:
    config = SkillsConfig(
        reload=False,
        mcp_servers={
            "local": {"command": PYTHON, "args": [str(SERVER)]},
            "remote": {"transport": "http", "url": http_server.url},
            "flaky": {"command": PYTHON, "args": [str(SERVER)], "timeout_s": 20},
            "missing": {"command": "/nonexistent/mcp-server"},
            "dies": {"command": PYTHON, "args": ["-c", BAD_START]},
            "refused": {"transport": "http", "url": f"http://127.0.0.1:{free_port()}/mcp"},
        },
    )
    registry = SkillRegistry(config)
    await registry.start()
    yield registry
    await registry.close()


async def test_tools_become_skills_with_their_schemas(registry: SkillRegistry) -> None:
    names = [s.name for s in registry.catalog().skills if s.source == "mcp"]
    for server in ("local", "remote", "flaky"):
        assert {f"{server}__{t}" for t in ("add", "echo", "lookup", "pid", "crash")} <= set(names)
    # servers start concurrently; their tools still come in config order, so the prompt is stable
    assert list(dict.fromkeys(n.split("__")[0] for n in names)) == ["local", "remote", "flaky"]
    add = registry.get("local__add")
    assert add is not None and add.python_name == "local__add"
    assert add.signature == "(a: int, b: int = 1) -> int"
    assert add.docstring == "Add two integers."
    assert add.json_schema["required"] == ["a"]
    assert add.path == PYTHON
    remote = registry.get("remote__echo")
    assert remote is not None and remote.path == registry.config.mcp_servers["remote"].url
    # no output schema: the tool answers in text, and the signature says so
    assert registry.get("local__lookup").signature == "(key: str) -> str"  # type: ignore[union-attr]


@pytest.mark.parametrize("server", ["local", "remote"])
async def test_calls_over_both_transports(
    registry: SkillRegistry, context: SkillContext, server: str
) -> None:
    add = await registry.call(f"{server}__add", [2, 3], {}, context)
    assert add.ok and add.result == 5, add.error
    default = await registry.call(f"{server}__add", [], {"a": 4}, context)
    assert default.result == 5
    echo = await registry.call(f"{server}__echo", ["ab"], {"times": 3}, context)
    assert echo.result == "ababab" and echo.skill == f"{server}__echo"
    lookup = await registry.call(f"{server}__lookup", ["alpha"], {}, context)
    assert lookup.ok and json.loads(lookup.result) == {"id": 1, "tags": ["a"]}


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (["x"], {}, "local__add(): argument 'a': 'x' is not of type 'integer'"),
        ([], {}, "local__add() missing required argument(s): a"),
        ([1, 2, 3], {}, "local__add() takes 2 positional arguments but 3 were given"),
        ([1], {"c": 3}, "local__add() got an unexpected keyword argument 'c' (takes: a, b)"),
        ([1], {"a": 2}, "local__add() got multiple values for argument 'a'"),
    ],
)
async def test_bad_calls_are_refused_before_the_server_sees_them(
    registry: SkillRegistry, context: SkillContext, args: list, kwargs: dict, expected: str
) -> None:
    call = await registry.call("local__add", args, kwargs, context)
    assert not call.ok and call.error_type == "bad_arguments"
    assert call.error == expected


async def test_tool_errors_come_back_as_values(
    registry: SkillRegistry, context: SkillContext
) -> None:
    call = await registry.call("remote__lookup", ["zeta"], {}, context)
    assert not call.ok and call.error_type == "mcp_tool_error"
    assert "no entry 'zeta'" in (call.error or "")


async def test_servers_that_fail_to_start_are_reported(registry: SkillRegistry) -> None:
    errors = {e.name: e for e in registry.catalog().errors}
    assert set(errors) == {"missing", "dies", "refused"}
    assert "FileNotFoundError" in errors["missing"].reason
    assert "/nonexistent/mcp-server" in errors["missing"].reason
    # what the server printed before it exited is the useful part
    assert "stderr: config file missing: /etc/tool.yaml" in errors["dies"].reason
    assert "connection refused" in errors["refused"].reason
    assert all(e.path == "config/mcp.yaml" for e in errors.values())
    status = registry.status()["mcp"]
    assert status["local"] == {"connected": True, "tools": 5, "error": None}
    assert not status["dies"]["connected"] and "config file missing" in status["dies"]["error"]


async def test_crashed_stdio_server_is_reconnected_on_next_use(
    registry: SkillRegistry, context: SkillContext
) -> None:
    first = (await registry.call("flaky__pid", [], {}, context)).result
    crashed = await registry.call("flaky__crash", [], {}, context)
    assert not crashed.ok and crashed.error_type == "mcp_unavailable"
    # left to the SDK, this call would end in its read timeout (mcp_error, "Timed out while
    # waiting for response"); the end of the pipe is noticed instead
    assert "connection lost during the call (the server process ended)" in (crashed.error or "")
    await until(lambda: not alive(first))
    second = await registry.call("flaky__pid", [], {}, context)
    assert second.ok and second.result != first and alive(second.result)

    # killed while idle: noticed, and the next call starts it again and succeeds
    os.kill(second.result, signal.SIGKILL)
    await until(lambda: not registry.status()["mcp"]["flaky"]["connected"])
    third = await registry.call("flaky__add", [1], {"b": 1}, context)
    assert third.ok and third.result == 2
    assert registry.status()["mcp"]["flaky"]["connected"]


async def test_http_server_gone_and_back(tmp_path: Path, context: SkillContext) -> None:
    port = free_port()
    with serve_http_mcp(tmp_path / "first", port=port) as server:
        registry = SkillRegistry(
            SkillsConfig(
                reload=False, mcp_servers={"web": {"transport": "http", "url": server.url}}
            )
        )
        await registry.start()
        assert (await registry.call("web__add", [1], {}, context)).result == 2
    gone = await registry.call("web__add", [1], {}, context)
    assert not gone.ok and gone.error_type == "mcp_unavailable"
    assert "connection refused" in (gone.error or ""), gone.error
    with serve_http_mcp(tmp_path / "second", port=port):
        back = await registry.call("web__add", [5], {}, context)
        assert back.ok and back.result == 6, back.error
        await registry.close()


async def test_a_server_that_hangs_at_start_is_stopped_and_reported(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    hang = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    registry = SkillRegistry(
        SkillsConfig(
            reload=False,
            mcp_servers={
                "slow": {"command": PYTHON, "args": ["-c", hang], "startup_timeout_s": 1.5}
            },
        )
    )
    await registry.start()
    [error] = registry.catalog().errors
    assert error.name == "slow" and "did not start within 1.5 s" in error.reason
    await until(lambda: pid_file.exists() and pid_file.read_text())
    await until(lambda: not alive(int(pid_file.read_text())))
    await registry.close()


async def test_close_ends_stdio_servers_and_disabled_entries_stay_out(
    context: SkillContext,
) -> None:
    registry = SkillRegistry(
        SkillsConfig(
            reload=False,
            disabled=["one__crash"],
            mcp_servers={
                "one": {"command": PYTHON, "args": [str(SERVER)]},
                "off": {"command": PYTHON, "args": [str(SERVER)], "disabled": True},
            },
        )
    )
    await registry.start()
    assert registry.get("one__crash") is None and registry.get("off__add") is None
    assert registry.catalog().errors == [] and set(registry.status()["mcp"]) == {"one"}
    pid = (await registry.call("one__pid", [], {}, context)).result
    await registry.close()
    await until(lambda: not alive(pid))


async def test_many_tools_progressive_disclosure(context: SkillContext) -> None:
    registry = SkillRegistry(
        SkillsConfig(
            reload=False,
            catalog_token_budget=400,
            mcp_servers={"crm": {"command": PYTHON, "args": [str(SERVER), "--tools", "120"]}},
        )
    )
    await registry.start()
    try:
        skills = registry.select("*")
        assert len(skills) == 7 + 5 + 120
        section = registry.prompt_section(skills)
        assert estimate_tokens(section) <= 400, section
        assert "def " not in section and "- web_search:" in section
        assert "describe_skills('crm__*')" in section and "125 MCP tools" in section
        # the program asks for what it needs: a whole server as one line per tool...
        listing = registry.describe(["crm__*"])
        lines = listing.splitlines()
        assert lines[0].startswith("# 125 skills match, one line each")
        assert (
            "crm__create_issue(query: str, limit: int = 20, fields: list[str] | None = None)"
            " -> dict: Create issue records" in listing
        )
        assert len(lines) == 126
        # ...a narrower glob, then one tool in full
        narrow = registry.describe(["crm__*_release"])
        assert narrow.count("def crm__") == 10 and "# " not in narrow.splitlines()[0]
        full = registry.describe(["crm__create_issue"])
        assert "Args:\n        query: Which issue records: an id, or a filter." in full
        picked = registry.select(["crm__*"], ["crm__get_*"])
        assert len(picked) == 12 and all(s.name.startswith("crm__get_") for s in picked)
        call = await registry.call("crm__search_release", ["paid"], {"limit": 2}, context)
        assert call.ok and call.result == {
            "tool": "search_release",
            "query": "paid",
            "limit": 2,
            "fields": [],
        }
    finally:
        await registry.close()
