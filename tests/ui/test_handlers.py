"""The UI's handlers as functions: ChatUI over a real runtime, service, store and sandboxed
kernels, the fake LLM answering. What each chat turn streams, stop, new session, the variables
panel, the notebook, attachments into the workspace, history, and who may ask."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import gradio as gr
import nbformat
import pytest

from tests.fake_llm import FakeLLM, Reply
from tests.ui.conftest import InProcess, fence

# a 1x1 PNG, displayed by a program to check images come out as files
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
).decode()


def request(tab: str) -> gr.Request:
    return gr.Request(session_hash=tab)


def meta(message: gr.ChatMessage) -> dict[str, Any]:
    return dict(message.metadata or {})


def titled(messages: list[gr.ChatMessage], prefix: str) -> list[gr.ChatMessage]:
    return [m for m in messages if str(meta(m).get("title", "")).startswith(prefix)]


def text(message: gr.ChatMessage) -> str:
    return message.content if isinstance(message.content, str) else json.dumps(message.content)


async def turns(app: InProcess, task: str, tab: str, files: list[str] | None = None) -> list[Any]:
    from agent.ui import Choices

    browser = app.chat.browser(request(tab))
    return [t async for t in app.chat.send(task, files or [], browser, Choices())]


async def test_a_turn_streams_plan_program_calls_outputs_answer(
    ui_app: InProcess, fake_llm: FakeLLM
) -> None:
    code = (
        'report = code_analysis("def f(x):\\n    return x + 1\\n")\n'
        "seen = list_files()\n"
        "total = sum(range(10))\n"
        'print("analysed", len(report["functions"]), "function")\n'
        "final_answer(total)"
    )
    fake_llm.queue(fence(code, plan="I analyse the code, then add up."))
    app = ui_app
    app.chat.open(request("tab-stream"))
    got = await turns(app, "analyse and add", "tab-stream")
    live, final = got[:-1], got[-1]
    assert final.final and not any(t.final for t in live)

    # while it ran: the program step pending, then each skill call pending under it
    pending_programs = [m for t in live for m in titled(t.messages, "Program 1")]
    assert any(meta(m).get("status") == "pending" for m in pending_programs)
    pending_calls = [
        m
        for t in live
        for m in titled(t.messages, "code_analysis(")
        if meta(m)["status"] == "pending"
    ]
    assert pending_calls and text(pending_calls[0]) == "running…"

    messages = final.messages
    assert messages[0].role == "user" and messages[0].content == "analyse and add"
    assert messages[1].content == "I analyse the code, then add up."
    (program,) = titled(messages, "Program 1")
    step = meta(program)
    assert step["status"] == "done" and step["log"] == "ok" and step["duration"] >= 0
    assert "```python" in text(program) and "sum(range(10))" in text(program)
    calls = titled(messages, "code_analysis(") + titled(messages, "list_files(")
    assert len(calls) == 2
    for call in calls:
        assert meta(call)["parent_id"] == step["id"]  # nested under its program
        assert meta(call)["status"] == "done" and meta(call)["duration"] >= 0
    assert "bytes" in meta(calls[0])["log"]
    assert any("analysed 1 function" in text(m) for m in messages)
    assert messages[-1].content == "**45**"

    assert final.notebook and Path(final.notebook).is_file()
    notebook = nbformat.read(final.notebook, as_version=4)
    nbformat.validate(notebook)
    assert ["total", "int", "45"] in final.variables


async def test_streamed_model_text_shows_while_the_program_is_written(
    ui_app: InProcess, fake_llm: FakeLLM
) -> None:
    words = " ".join(f"word{n}" for n in range(30))
    fake_llm.queue(Reply(text=fence("final_answer('ok')", plan=words), chunk_delay_s=0.02))
    got = await turns(ui_app, "write slowly", "tab-draft")
    drafts = [m for t in got[:-1] for m in titled(t.messages, "Writing program 1")]
    assert drafts and all(meta(m)["status"] == "pending" for m in drafts)
    assert all(text(m).startswith("word0") for m in drafts)
    assert not titled(got[-1].messages, "Writing program")  # replaced by the step itself


async def test_errors_images_html_and_repair(ui_app: InProcess, fake_llm: FakeLLM) -> None:
    failing = "ratio = 1 / 0"
    rich = (
        "import base64\n"
        "from IPython.display import HTML, Image, display\n"
        "display(HTML('<b>bold table</b>'))\n"
        f"display(Image(data=base64.b64decode('{PIXEL}'), format='png'))\n"
        "final_answer({'fixed': True})"
    )
    fake_llm.queue(fence(failing), fence(rich, plan="Dividing by zero failed; fixed."))
    got = await turns(ui_app, "divide", "tab-rich")
    messages = got[-1].messages
    first, second = titled(messages, "Program 1")[0], titled(messages, "Program 2")[0]
    assert meta(first)["log"] == "error" and meta(second)["log"] == "ok"
    (error,) = titled(messages, "ZeroDivisionError")
    assert "division by zero" in meta(error)["title"] and "1 / 0" in text(error)
    assert any(m.content == "<b>bold table</b>" for m in messages)
    images = [m for m in messages if isinstance(m.content, dict) and "path" in m.content]
    assert len(images) == 1 and Path(images[0].content["path"]).read_bytes().startswith(b"\x89PNG")
    assert '"fixed": true' in text(messages[-1])


async def test_a_subagent_nests_under_the_program_that_delegated(
    ui_app: InProcess, fake_llm: FakeLLM
) -> None:
    fake_llm.queue(
        fence("r = delegate('helper', 'compute 6*7')\nfinal_answer(r)", plan="I ask the helper."),
        fence("final_answer(6 * 7)", plan="Easy."),
    )
    got = await turns(ui_app, "ask the helper", "tab-sub")
    messages = got[-1].messages
    program = meta(titled(messages, "Program 1")[0])
    (sub,) = titled(messages, "Subagent helper: compute 6*7")
    assert meta(sub)["parent_id"] == program["id"] and meta(sub)["status"] == "done"
    inner = [m for m in messages if meta(m).get("parent_id") == meta(sub)["id"]]
    assert [m.content for m in inner if not meta(m).get("title")] == ["Easy.", "**42**"]
    (child_program,) = [m for m in inner if meta(m).get("title") == "Program 1"]
    assert "6 * 7" in text(child_program)
    (call,) = titled(messages, 'delegate("helper"')
    assert meta(call)["parent_id"] == program["id"]
    assert messages[-1].content == "42" and not meta(messages[-1]).get("parent_id")  # a str


async def test_a_separate_plan_shows_as_its_own_step(ui_app: InProcess, fake_llm: FakeLLM) -> None:
    from agent.ui import Choices

    fake_llm.queue("1. add\n2. answer", fence("final_answer(1 + 1)"))
    browser = ui_app.chat.browser(request("tab-plan"))
    got = [t async for t in ui_app.chat.send("plan it", [], browser, Choices(agent="planner"))]
    (plan,) = titled(got[-1].messages, "Plan")
    assert plan.content == "1. add\n2. answer" and meta(plan)["status"] == "done"
    assert got[-1].messages[-1].content == "**2**"


async def test_stop_cancels_the_running_program(ui_app: InProcess, fake_llm: FakeLLM) -> None:
    from agent.ui import Choices

    fake_llm.queue(fence("import time\nwhile True:\n    time.sleep(0.05)"))
    app = ui_app
    browser = app.chat.browser(request("tab-stop"))
    stream = app.chat.send("loop forever", [], browser, Choices())
    seen: list[Any] = []
    async for turn in stream:
        seen.append(turn)
        programs = titled(turn.messages, "Program 1")
        if programs and meta(programs[0]).get("status") == "pending":
            break
    assert browser.running is not None
    running = browser.running
    await app.chat.stop(browser)
    rest = [t async for t in stream]
    final = rest[-1]
    assert final.final and final.messages[-1].content.startswith("**Stopped**")
    record = await app.service.get(running)
    assert record.status == "cancelled"
    # the kernel survived the interrupt: the session goes on
    fake_llm.queue(fence("final_answer('still here')"))
    again = await turns(app, "are you there", "tab-stop")
    assert again[-1].messages[-1].content == "still here"


async def test_each_tab_has_its_own_session_and_new_session_starts_fresh(
    ui_app: InProcess, fake_llm: FakeLLM
) -> None:
    app = ui_app
    one, two = app.chat.open(request("tab-a")), app.chat.open(request("tab-b"))
    assert one.session_id != two.session_id
    fake_llm.queue(fence("secret = 41\nfinal_answer(secret + 1)"))
    await turns(app, "remember", "tab-a")
    assert ["secret", "int", "41"] in await app.chat.variables(one.session_id)
    assert await app.chat.variables(two.session_id) == []  # never shared between tabs

    fresh = await app.chat.new_session(request("tab-a"))
    assert fresh.session_id != one.session_id and fresh.history == []
    assert one.session_id not in app.runtime.sessions  # the old kernel was released
    assert await app.chat.variables(fresh.session_id) == []
    fake_llm.queue(fence("final_answer('secret' in globals())"))
    got = await turns(app, "do you remember", "tab-a")
    assert got[-1].messages[-1].content == "**False**"


async def test_unload_releases_the_kernel_and_cancels_the_run(
    ui_app: InProcess, fake_llm: FakeLLM
) -> None:
    from agent.ui import Choices

    app = ui_app
    browser = app.chat.open(request("tab-gone"))
    fake_llm.queue(fence("import time\nwhile True:\n    time.sleep(0.05)"))
    stream = app.chat.send("run until the tab closes", [], browser, Choices())
    async for turn in stream:
        if any(meta(m).get("status") == "pending" for m in titled(turn.messages, "Program")):
            break
    running = browser.running
    await app.chat.unload(request("tab-gone"))
    await stream.aclose()
    assert "tab-gone" not in app.chat.browsers
    assert browser.session_id not in app.runtime.sessions
    record = await app.service.wait(running)
    assert record.status == "cancelled"


async def test_attached_csv_lands_in_the_workspace_and_the_prompt(
    ui_app: InProcess, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    data = tmp_path / "sales.csv"
    data.write_text("region,amount\nnorth,10\nsouth,32\n")
    code = (
        "import csv\n"
        "rows = list(csv.DictReader(open('sales.csv')))\n"
        "total = sum(int(r['amount']) for r in rows)\n"
        "open('total.txt', 'w').write(str(total))\n"
        "final_answer(total)"
    )
    fake_llm.queue(fence(code))
    app = ui_app
    browser = app.chat.open(request("tab-csv"))
    got = await turns(app, "sum the amounts", "tab-csv", files=[str(data)])
    final = got[-1]
    assert final.messages[0].content == "sum the amounts\n\nattached: `sales.csv`"
    assert final.messages[-1].content == "**42**"
    assert "sales.csv" in fake_llm.requests[-1].last_user_text()  # the prompt says it is there
    names = sorted(Path(p).name for p in final.files)
    assert names == ["sales.csv", "total.txt"]  # what the program wrote is offered too
    workspace = app.runtime.kernels.workspace(browser.session_id)
    assert (workspace / "total.txt").read_text() == "42"


async def test_bad_input_is_a_message_not_a_crash(
    ui_app: InProcess, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    from agent.errors import AgentError
    from agent.ui import Choices

    app = ui_app
    browser = app.chat.open(request("tab-bad"))
    hidden = tmp_path / ".env"
    hidden.write_text("SECRET=1")
    got = await turns(app, "read it", "tab-bad", files=[str(hidden)])
    assert len(got) == 1 and got[0].final
    assert got[0].messages[-1].content.startswith("**Not run** — bad_request: file name")
    unknown = [t async for t in app.chat.send("x", [], browser, Choices(agent="nobody"))]
    assert "unknown_agent" in unknown[-1].messages[-1].content
    with pytest.raises(AgentError, match="type a task"):
        await anext(app.chat.send("   ", [], browser, Choices()))
    assert fake_llm.requests == []  # nothing reached the model


async def test_history_lists_runs_and_opens_one_from_its_notebook(
    ui_app: InProcess, fake_llm: FakeLLM
) -> None:
    app = ui_app
    fake_llm.queue(fence("word = 'notebook'\nprint(word)\nfinal_answer(word.upper())"))
    got = await turns(app, "shout", "tab-history")
    records = await app.chat.history(None)
    mine = [r for r in records if r.task == "shout"]
    assert mine and mine[0].status == "completed"
    messages, path = await app.chat.open_run(mine[0].execution_id, None, "tab-history")
    assert path == got[-1].notebook
    (program,) = titled(messages, "Program 1")
    assert "word.upper()" in text(program) and meta(program)["log"] == "ok"
    assert any("notebook" in text(m) and "```text" in text(m) for m in messages)  # its output
    assert any("NOTEBOOK" in text(m) for m in messages)  # the answer cell
    missing, none = await app.chat.open_run("exe_nope", None, "tab-history")
    assert none is None and "Not found" in text(missing[0])


def test_skills_tab_lists_the_catalog(ui_app: InProcess) -> None:
    rows, errors = ui_app.chat.skills()
    names = {row[0] for row in rows}
    assert {"code_analysis", "list_files", "summarize", "web_search"} <= names
    assert errors == []


async def test_keys_decide_the_owner(ui_app: InProcess) -> None:
    from agent.errors import AgentError
    from agent.http.auth import ApiKey, KeyRing, hash_key
    from agent.ui import ChatUI

    ring = KeyRing([ApiKey(id="alice", digest=bytes.fromhex(hash_key("alice-key")))])
    app = ui_app
    chat = ChatUI(app.service, app.runtime, ring, media_root=app.base / "media-keys")
    bearer = gr.Request(headers={"authorization": "Bearer alice-key"})
    assert chat.owner(bearer) == "alice"
    assert chat.owner(gr.Request(username="alice")) == "alice"  # named by the auth dependency
    with pytest.raises(AgentError, match="an API key is required"):
        chat.owner(gr.Request(headers={}))
    with pytest.raises(AgentError, match="unknown API key"):
        chat.owner(gr.Request(headers={"x-api-key": "mallory"}))
    with pytest.raises(gr.Error, match="unauthorized"):
        await chat.run_api("hello", "", gr.Request(headers={}))


async def test_tasks_of_different_tabs_stream_side_by_side(
    ui_app: InProcess, fake_llm: FakeLLM
) -> None:
    """Two tabs at once: the second one's answer arrives while the first still runs."""
    app = ui_app
    fake_llm.responder = lambda request: (
        fence(
            "import time\nwhile not __import__('os').path.exists('go'):\n    time.sleep(0.02)\nfinal_answer('slow')"
        )
        if "slow" in request.last_user_text()
        else fence("final_answer('quick')")
    )
    slow_tab, quick_tab = app.chat.open(request("tab-slow")), app.chat.open(request("tab-quick"))
    slow = asyncio.create_task(turns(app, "slow one", "tab-slow"))
    quick = await turns(app, "quick one", "tab-quick")
    assert quick[-1].messages[-1].content == "quick" and not slow.done()
    (app.runtime.kernels.workspace(slow_tab.session_id) / "go").write_text("")
    assert (await slow)[-1].messages[-1].content == "slow"
    assert quick_tab.session_id != slow_tab.session_id


def test_gradio_queue_polls_calmly() -> None:
    # Gradio's own 1 ms idle poll cost ~9% of a core in an idle server; if a Gradio upgrade
    # renames the attributes, this fails rather than the setting silently doing nothing

    from agent.ui.page import QUEUE_POLL_S, QUEUE_PROGRESS_POLL_S, _calm_queue

    with gr.Blocks() as blocks:
        gr.Markdown("x")
    blocks.queue()
    _calm_queue(blocks)
    queue = blocks._queue
    assert queue.sleep_when_free == QUEUE_POLL_S
    assert queue.progress_update_sleep_when_free == QUEUE_PROGRESS_POLL_S
