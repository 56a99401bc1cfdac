"""Gradio's named API against one `app.py` process: `/run` and `/chat` through `gradio_client`,
guarded by the REST API's keys; and the agent as an MCP tool through the `mcp` SDK's client."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gradio_client import Client

from agent.ui.access import COOKIE
from tests.fake_llm import FakeLLM
from tests.ui.conftest import KEY, UIServer, fence

AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def client(ui_server: UIServer) -> Iterator[Client]:
    yield Client(ui_server.url, headers=AUTH, verbose=False, download_files=False)


def test_use_via_api_names_run_and_chat(client: Client) -> None:
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/run", "/chat"} <= set(endpoints)
    assert [p["parameter_name"] for p in endpoints["/run"]["parameters"]] == ["task", "session_id"]
    assert [p["parameter_name"] for p in endpoints["/chat"]["parameters"]] == [
        "message",
        "session_id",
    ]
    assert not any(name.startswith("/on_") for name in endpoints)  # the page's own events


def test_run_returns_the_record_and_sessions_carry_state(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.queue(
        fence("base = 20\nfinal_answer(base + 1)"),
        fence("final_answer(base * 2)"),
        fence("final_answer('base' in globals())"),
    )
    first: dict[str, Any] = client.predict("make base", "", api_name="/run")
    assert first["status"] == "completed" and first["result"] == 21
    assert first["sessionId"].startswith("ses_") and first["notebook"].endswith(".ipynb")
    assert {"executionId", "steps", "skillCalls", "usage", "createdAt"} <= set(first)
    again = client.predict("double it", first["sessionId"], api_name="/run")
    assert again["result"] == 40 and again["sessionId"] == first["sessionId"]
    chosen = client.predict("is base there", "my-own-session", api_name="/run")
    assert chosen["sessionId"] == "my-own-session" and chosen["result"] is False


def test_run_says_what_is_wrong(client: Client, fake_llm: FakeLLM) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="bad_request"):
        client.predict("   ", "", api_name="/run")
    with pytest.raises(AppError, match="session_id"):
        client.predict("hi", "../../etc", api_name="/run")
    assert fake_llm.requests == []


def test_chat_streams_the_conversation(client: Client, fake_llm: FakeLLM) -> None:
    fake_llm.queue(
        fence("n = 6\nprint('thinking')\nfinal_answer(n * 7)"), fence("final_answer(n + 1)")
    )
    job = client.submit("multiply", "", api_name="/chat")
    updates = list(job)
    final = job.result()
    assert len(updates) >= 3 and updates[-1] == final
    session = final[0]
    assert session["role"] == "system" and session["content"][0]["text"].startswith("session_id: ")
    session_id = session["content"][0]["text"].removeprefix("session_id: ")
    titles = [(m.get("metadata") or {}).get("title") for m in final]
    assert "Program 1" in titles
    assert final[-1]["content"][0]["text"] == "**42**"
    growing = [len(update) for update in updates]
    assert growing == sorted(growing)  # it grows: never shrinks while streaming

    followed = client.predict("one more", session_id, api_name="/chat")
    texts = [m["content"][0].get("text") for m in followed if m["content"]]
    assert texts.count("multiply") == 1 and texts[-1] == "**7**"  # the earlier turn, then this


def test_the_api_needs_a_key(ui_server: UIServer) -> None:
    with pytest.raises(Exception, match="credentials were not provided"):
        Client(ui_server.url, verbose=False)
    answer = httpx.post(f"{ui_server.url}/gradio_api/run/run", json={"data": ["hi", ""]})
    assert answer.status_code == 401
    page = httpx.get(f"{ui_server.url}/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    wrong = httpx.post(f"{ui_server.url}/login", data={"key": "nope"})
    assert wrong.status_code == 401
    right = httpx.post(f"{ui_server.url}/login", data={"key": KEY}, follow_redirects=False)
    assert right.status_code == 303 and "httponly" in right.headers["set-cookie"].lower()
    signed = right.cookies[COOKIE]
    assert KEY not in signed  # the cookie is a signed token, not the key
    assert httpx.get(f"{ui_server.url}/", cookies={COOKIE: signed}).status_code == 200
    for bad in (KEY, signed[:-1] + ("0" if signed[-1] != "0" else "1")):
        page = httpx.get(f"{ui_server.url}/", cookies={COOKIE: bad}, follow_redirects=False)
        assert page.status_code == 303


async def test_run_is_an_mcp_tool(ui_server: UIServer, fake_llm: FakeLLM) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    fake_llm.queue(fence("final_answer(sum(range(5)))"))
    url = f"{ui_server.url}/gradio_api/mcp/"
    async with (
        httpx.AsyncClient(headers=AUTH, timeout=120) as http,
        streamable_http_client(url, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(tools) == {"run"}  # chat is not one: see agent/ui/api.py
        schema = tools["run"].inputSchema
        assert schema["required"] == ["task", "session_id"]
        assert "execution record" in (tools["run"].description or "")
        result = await session.call_tool("run", {"task": "add up", "session_id": ""})
    assert not result.isError
    record = ast.literal_eval(result.content[0].text)  # Gradio renders the dict as its repr
    assert record["status"] == "completed" and record["result"] == 10

    async with (
        httpx.AsyncClient(timeout=120) as http,
        streamable_http_client(url, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        refused = await session.call_tool("run", {"task": "add up", "session_id": ""})
    assert refused.isError and "API key is required" in refused.content[0].text
