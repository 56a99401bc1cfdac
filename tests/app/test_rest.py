"""The REST suite against one real server process (app.py), the fake LLM answering."""

from __future__ import annotations

import json
import os
import time

import httpx
import pytest

from tests.app.conftest import Server
from tests.fake_llm import FakeLLM, Reply


def fence(code: str) -> str:
    return f"Plan.\n\n```python\n{code}\n```\n"


@pytest.fixture
def api(rest_server: Server) -> httpx.Client:
    with httpx.Client(base_url=rest_server.url, timeout=60) as client:
        yield client


def wait_done(api: httpx.Client, execution_id: str) -> dict:
    events = []
    with api.stream("GET", f"/agent/executions/{execution_id}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
                if events[-1]["type"] == "done" and events[-1]["executionId"] == execution_id:
                    break
    return {"events": events, "record": api.get(f"/agent/executions/{execution_id}").json()}


def json_lines(text: str) -> list[dict]:
    """The log's complete lines (the last may be mid-write), each of them JSON."""
    lines = text[: text.rfind("\n") + 1].splitlines()
    bad = [line for line in lines if line and not line.startswith("{")]
    assert not bad, f"lines that are not JSON: {bad[:3]}"
    return [json.loads(line) for line in lines if line]


def test_bad_bodies_are_problems_and_queue_nothing(api: httpx.Client) -> None:
    broken = api.post(
        "/agent/execute", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["code"] == "invalid_json"
    assert broken.headers["content-type"].startswith("application/problem+json")
    wrong = api.post("/agent/execute", json={"task": 5, "availableSkills": "x"})
    fields = {e["field"] for e in wrong.json()["errors"]}
    assert wrong.status_code == 400 and {"task", "availableSkills"} <= fields
    assert api.post("/agent/execute", json={"task": "t", "agent": "nobody"}).status_code == 404
    assert (
        api.post("/agent/execute", json={"task": "t", "availableSkills": ["nope"]}).status_code
        == 404
    )
    big = api.post("/agent/execute", json={"task": "x" * 2_000_000})
    assert big.status_code == 413
    assert api.get("/agent/executions").json()["items"] == []


def test_two_turn_session_record_events_notebook(api: httpx.Client, fake_llm: FakeLLM) -> None:
    fake_llm.queue(fence("x = 20\nfinal_answer(x + 1)"), fence("final_answer(x * 2)"))
    first = api.post("/agent/execute", json={"task": "make x"})
    assert first.status_code == 202 and first.json()["status"] == "queued"
    done = wait_done(api, first.json()["executionId"])
    assert done["record"]["status"] == "completed" and done["record"]["result"] == 21
    types = [e["type"] for e in done["events"]]
    assert types[-1] == "done" and "step" in types
    session = first.json()["sessionId"]
    second = api.post("/agent/execute", json={"task": "double x", "sessionId": session}).json()
    late = wait_done(api, second["executionId"])  # subscribed after it may have finished
    assert late["record"]["result"] == 40 and late["events"][-1]["data"]["status"] == "completed"
    notebook = api.get(f"/agent/executions/{second['executionId']}/notebook")
    assert notebook.status_code == 200 and notebook.headers["content-type"].startswith(
        "application/x-ipynb+json"
    )
    assert notebook.json()["nbformat"] == 4
    turns = api.get(f"/agent/sessions/{session}").json()["turns"]
    assert [t["task"] for t in turns] == ["make x", "double x"]
    page = api.get("/agent/executions", params={"sessionId": session, "limit": 1}).json()
    assert page["items"][0]["executionId"] == second["executionId"] and page["nextCursor"]


def test_cancel_while_running_and_while_queued(api: httpx.Client, fake_llm: FakeLLM) -> None:
    fake_llm.queue(Reply(text=fence("final_answer(1)"), delay_s=30))
    running = api.post("/agent/execute", json={"task": "slow", "sessionId": "ses-cancel"}).json()
    queued = api.post("/agent/execute", json={"task": "after", "sessionId": "ses-cancel"}).json()
    assert (
        api.post(f"/agent/executions/{queued['executionId']}/cancel").json()["status"]
        == "cancelled"
    )
    for _ in range(100):
        if api.get(f"/agent/executions/{running['executionId']}").json()["status"] == "running":
            break
    cancelled = api.post(f"/agent/executions/{running['executionId']}/cancel").json()
    assert cancelled["status"] == "cancelled"


def steps_of(events: list[dict]) -> list[tuple[int, str]]:
    """The steps an event stream carried, each once (an update repeats a step's index)."""
    seen = {
        e["data"]["step"]["index"]: e["data"]["step"]["type"] for e in events if e["type"] == "step"
    }
    return sorted(seen.items())


def test_execute_can_answer_with_the_event_stream(api: httpx.Client, fake_llm: FakeLLM) -> None:
    # one request to submit and follow: the answer is the events, as /events gives them
    fake_llm.queue(fence("print('hi')\nfinal_answer(7)"))
    body = {"task": "stream it", "idempotencyKey": "stream-1"}
    headers = {"Accept": "text/event-stream"}

    def streamed() -> tuple[httpx.Response, list[dict]]:
        with api.stream("POST", "/agent/execute", json=body, headers=headers) as reply:
            events = [json.loads(line[5:]) for line in reply.iter_lines() if line[:5] == "data:"]
        return reply, events

    reply, events = streamed()
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-")
    record = api.get(reply.headers["location"]).json()
    assert record["status"] == "completed" and record["result"] == 7
    assert events[-1]["type"] == "done" and events[-1]["executionId"] == record["executionId"]
    # live, the reply's deltas among them; a late subscriber reads the same steps after the
    # task's own (step 0, which only a replay of the record sends)
    assert "llm_delta" in {e["type"] for e in events}
    late = steps_of(wait_done(api, record["executionId"])["events"])
    assert late == [(0, "task"), *steps_of(events)] and late[-1] == (2, "final_answer")
    # the key again: the first execution's events once more, nothing new queued
    again, replayed = streamed()
    assert again.headers["location"] == reply.headers["location"]
    assert steps_of(replayed) == late and replayed[-1]["type"] == "done"
    # JSON named too: the usual 202 (a client that takes either gets what it always got)
    fake_llm.queue(fence("final_answer(8)"))
    mixed = api.post(
        "/agent/execute",
        json={"task": "json"},
        headers={"Accept": "application/json, text/event-stream"},
    )
    assert mixed.status_code == 202
    assert wait_done(api, mixed.json()["executionId"])["record"]["result"] == 8


def _held(pid: int) -> tuple[int, int]:
    """Open fds and threads of a process."""
    return len(os.listdir(f"/proc/{pid}/fd")), len(os.listdir(f"/proc/{pid}/task"))


def test_kernel_deaths_and_interrupts_release_fds_and_threads(
    api: httpx.Client, rest_server: Server, fake_llm: FakeLLM
) -> None:
    # each round: a program kills its kernel (replaced, the agent goes on in the new one), then
    # a sleeping program is cancelled (interrupted); a client, context or channel thread left
    # behind by either shows as fds (a dozen or so a kernel) and threads that grow each round
    def one_round() -> tuple[int, int]:
        fake_llm.queue(fence("import os\nos._exit(1)"), fence("final_answer(2)"))
        died = api.post("/agent/execute", json={"task": "die", "sessionId": "ses-die"}).json()
        assert wait_done(api, died["executionId"])["record"]["result"] == 2
        fake_llm.queue(fence("import time\ntime.sleep(60)"))
        sleeper = api.post("/agent/execute", json={"task": "nap", "sessionId": "ses-nap"}).json()
        url = f"/agent/executions/{sleeper['executionId']}"
        while api.get(url).json()["status"] == "queued":
            time.sleep(0.05)
        time.sleep(1)  # the LLM answers at once: the program is asleep in the kernel by now
        assert api.post(f"{url}/cancel").json()["status"] == "cancelled"
        assert wait_done(api, sleeper["executionId"])["record"]["status"] == "cancelled"
        time.sleep(1)  # the pool's refill, if any, has started
        return _held(rest_server.process.pid)

    one_round()  # the sessions take their kernels (evicting earlier ones) and settle
    fds, threads = one_round()
    for _ in range(2):
        after = one_round()
    assert after[0] <= fds + 8 and after[1] <= threads + 1, (fds, threads, after)


def test_idempotency_key_returns_the_first(api: httpx.Client, fake_llm: FakeLLM) -> None:
    fake_llm.queue(fence("final_answer('once')"))
    body = {"task": "once", "idempotencyKey": "abc-1"}
    first = api.post("/agent/execute", json=body)
    again = api.post("/agent/execute", json=body)
    assert again.status_code == 200 and again.json()["executionId"] == first.json()["executionId"]
    # finished here: a task still asking the fake LLM later would take the next test's reply
    assert wait_done(api, first.json()["executionId"])["record"]["result"] == "once"


def test_prefer_wait_answers_in_one_request(api: httpx.Client, fake_llm: FakeLLM) -> None:
    fake_llm.queue(fence("final_answer(6 * 7)"))
    done = api.post("/agent/execute", json={"task": "answer"}, headers={"Prefer": "wait=20"})
    assert done.status_code == 200 and done.headers["preference-applied"] == "wait=20"
    record = done.json()
    assert record["status"] == "completed" and record["result"] == 42 and record["steps"]
    assert record == api.get(done.headers["location"]).json()
    # slower than the wait: the usual 202, then a long poll on the record until it ends
    fake_llm.queue(Reply(text=fence("final_answer(1)"), delay_s=2))
    headers = {"Prefer": "respond-async, wait=1"}
    slow = api.post("/agent/execute", json={"task": "slow"}, headers=headers)
    assert slow.status_code == 202 and slow.json()["status"] in ("queued", "running")
    polled = api.get(
        f"/agent/executions/{slow.json()['executionId']}", headers={"Prefer": "wait=999"}
    )
    assert polled.json()["status"] == "completed" and polled.json()["result"] == 1
    assert 0 < int(polled.headers["preference-applied"].removeprefix("wait=")) < 999  # capped
    # an unusable preference is ignored: queued as without one
    fake_llm.queue(fence("final_answer(2)"))
    ignored = api.post("/agent/execute", json={"task": "two"}, headers={"Prefer": "wait=soon"})
    assert ignored.status_code == 202 and "preference-applied" not in ignored.headers
    assert wait_done(api, ignored.json()["executionId"])["record"]["result"] == 2


def test_files_round_trip_and_no_escape(api: httpx.Client) -> None:
    up = api.post("/agent/sessions/ses-files/files", files={"files": ("notes.txt", b"hello")})
    assert up.status_code == 201 and up.json()["files"] == [{"name": "notes.txt", "size": 5}]
    listed = api.get("/agent/sessions/ses-files/files").json()["files"]
    assert [f["name"] for f in listed] == ["notes.txt"]
    assert api.get("/agent/sessions/ses-files/files/notes.txt").content == b"hello"
    bad = api.post("/agent/sessions/ses-files/files", files={"files": (".hidden", b"x")})
    assert bad.status_code == 400
    assert api.get("/agent/sessions/ses-files/files/..%2F..%2Fetc%2Fpasswd").status_code in (
        400,
        404,
    )


def test_ops_routes(api: httpx.Client) -> None:
    assert api.get("/health").json() == {"status": "ok"}
    ready = api.get("/ready").json()
    assert {"database", "kernels", "llm", "isolation"} <= set(ready["checks"])
    metrics = api.get("/metrics").text
    assert "agent_tasks_total" in metrics and "agent_queue_depth" in metrics
    assert api.get("/openapi.json").json()["paths"]["/agent/execute"]
    headers = api.get("/health").headers
    assert (
        headers["x-content-type-options"] == "nosniff"
        and "default-src 'none'" in headers["content-security-policy"]
    )
    assert api.get("/agent/executions/exe_nope").status_code == 404
    skills = {s["name"]: s for s in api.get("/skills").json()["skills"]}
    search = skills["web-search"]
    assert search["python_name"] == "web_search" and search["source"] == "builtin"
    assert search["signature"].startswith("(query: str, max_results: int = 5)")
    assert search["json_schema"]["properties"]["query"]["type"] == "string"
    assert search["json_schema"]["required"] == ["query"]


def test_json_log_lines_carry_the_execution_id(
    api: httpx.Client, rest_server: Server, fake_llm: FakeLLM
) -> None:
    # a failing skill call logs from inside the task (the id comes from its context), the end
    # of the execution and the requests about it log with the id too
    fake_llm.queue(
        fence("try:\n    read_file('missing.txt')\nexcept Exception:\n    pass\nfinal_answer(1)")
    )
    eid = api.post("/agent/execute", json={"task": "log it"}).json()["executionId"]
    assert wait_done(api, eid)["record"]["status"] == "completed"
    lines: list[dict] = []
    deadline = time.monotonic() + 10  # the listener thread writes shortly after
    while time.monotonic() < deadline:
        lines = json_lines(rest_server.log.read_text())
        mine = [line for line in lines if line.get("executionId") == eid]
        if {"skills.registry", "agent.service", "agent.http.access"} <= {m["logger"] for m in mine}:
            break
        time.sleep(0.1)
    mine = [line for line in lines if line.get("executionId") == eid]
    by_logger = {m["logger"]: m for m in mine}
    assert "read_file failed" in by_logger["skills.registry"]["msg"].replace("-", "_")
    assert by_logger["agent.service"]["status"] == "completed" and by_logger["agent.service"]["ms"]
    assert by_logger["agent.http.access"]["status"] == 200
    # nothing died unseen in the server: a thread's uncaught exception is a line of its own
    assert not [line for line in lines if line["logger"] == "agent.uncaught"]
