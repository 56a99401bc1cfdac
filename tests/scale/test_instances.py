"""Two app instances on one PostgreSQL: shared queue, per-session order, cancel and streams from
either instance, and a SIGKILLed instance's tasks finished by the other, each exactly once."""

from __future__ import annotations

import json
import re
import signal
import time

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.app.conftest import Server
from tests.fake_llm import FakeLLM, RecordedRequest
from tests.scale.conftest import Cluster, Postgres, wait_done

pytestmark = pytest.mark.slow

PROGRAM = re.compile(r"RUN<<(.*?)>>", re.S)


def respond(request: RecordedRequest) -> str:
    """The program is in the task itself (the newest one in the prompt): `RUN<<code>>`."""
    found = PROGRAM.findall(request.last_user_text())
    code = found[-1] if found else "final_answer('no program in the task')"
    return f"Plan.\n\n```python\n{code}\n```\n"


@pytest.fixture
def llm(fake_llm: FakeLLM) -> FakeLLM:
    fake_llm.responder = respond
    return fake_llm


def submit(server: Server, code: str, session: str | None = None) -> str:
    body: dict[str, object] = {"task": f"RUN<<{code}>>"}
    if session:
        body["sessionId"] = session
    response = httpx.post(f"{server.url}/agent/execute", json=body, timeout=30)
    assert response.status_code == 202, response.text
    return str(response.json()["executionId"])


def runner_pid(pg: Postgres, execution_id: str) -> int | None:
    """The pid of the instance that last wrote the record (the one running it)."""
    engine = create_engine(pg.url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT i.pid FROM executions e JOIN instances i ON i.instance_id = e.instance "
                    "WHERE e.execution_id = :e"
                ),
                {"e": execution_id},
            ).first()
    finally:
        engine.dispose()
    return None if row is None else int(row[0])


def wait_running(server: Server, execution_id: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = httpx.get(f"{server.url}/agent/executions/{execution_id}", timeout=10).json()
        if record["status"] == "running" and record["steps"]:
            return
        time.sleep(0.1)
    raise AssertionError(f"{execution_id} did not start within {timeout:g} s")


def test_one_session_alternating_instances_keeps_order_and_state(
    cluster: Cluster, llm: FakeLLM
) -> None:
    code = (
        "try:\n    seq\nexcept NameError:\n    seq = []\nseq.append({n})\nfinal_answer(list(seq))"
    )
    session = "ses-alternating"
    ids = [
        submit(cluster.a if n % 2 else cluster.b, code.format(n=n), session) for n in range(1, 5)
    ]
    records = [wait_done(cluster.a, i) for i in ids]
    assert [r["status"] for r in records] == ["completed"] * 4, [r["error"] for r in records]
    assert [r["result"] for r in records] == [[1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]
    starts = [r["createdAt"] for r in records]
    finishes = [r["finishedAt"] for r in records]
    assert starts == sorted(starts) and finishes == sorted(finishes)


def test_second_turn_taken_by_the_other_instance(cluster: Cluster, llm: FakeLLM) -> None:
    first = submit(cluster.a, "x = 41\nfinal_answer(x)", "ses-handover")
    assert wait_done(cluster.a, first)["result"] == 41
    cluster.a.stop()  # only b's worker is left to take the next turn
    try:
        second = submit(cluster.b, "final_answer(x + 1)", "ses-handover")
        record = wait_done(cluster.b, second)
        assert record["status"] == "completed" and record["result"] == 42
    finally:
        cluster.restart("a")


def test_cancel_and_stream_from_the_instance_not_running_it(
    cluster: Cluster, postgres: Postgres, llm: FakeLLM
) -> None:
    execution_id = submit(cluster.a, "import time\ntime.sleep(60)\nfinal_answer('late')")
    wait_running(cluster.a, execution_id)
    pids = {cluster.a.process.pid: cluster.a, cluster.b.process.pid: cluster.b}
    deadline = time.monotonic() + 10
    while runner_pid(postgres, execution_id) not in pids and time.monotonic() < deadline:
        time.sleep(0.1)
    runner = pids[runner_pid(postgres, execution_id)]  # type: ignore[index]
    other = cluster.b if runner is cluster.a else cluster.a
    cancelled = httpx.post(f"{other.url}/agent/executions/{execution_id}/cancel", timeout=60)
    assert cancelled.status_code == 200, cancelled.text
    assert wait_done(other, execution_id)["status"] == "cancelled"
    events = []
    with httpx.stream(
        "GET", f"{other.url}/agent/executions/{execution_id}/events", timeout=30
    ) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
    assert events[-1]["type"] == "done" and events[-1]["data"]["status"] == "cancelled"


def queue_depth(server: Server) -> tuple[float, int]:
    """The queue depth as /metrics and /ready report it."""
    found = [
        line.split()[1]
        for line in httpx.get(f"{server.url}/metrics", timeout=10).text.splitlines()
        if line.startswith("agent_queue_depth ")
    ]
    assert found, "agent_queue_depth is not in /metrics"
    ready = httpx.get(f"{server.url}/ready", timeout=10).json()  # 503 still has the checks
    return float(found[0]), int(ready["checks"]["server"]["queueDepth"])


def wait_depth(server: Server, depth: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    seen = queue_depth(server)
    while seen != (depth, depth) and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = queue_depth(server)
    assert seen == (depth, depth), f"{server.url}: depth (metrics, ready) {seen}, not {depth}"


def test_queue_depth_is_the_shared_queues(cluster: Cluster, llm: FakeLLM) -> None:
    """Turns of one session waiting behind its running turn count on every instance."""
    session = "ses-depth"
    hold = (
        "import os, time\nfor _ in range(1200):\n    if os.path.exists('go'):\n        break\n"
        "    time.sleep(0.1)\nfinal_answer('released')"
    )
    first = submit(cluster.a, hold, session)
    wait_running(cluster.a, first)
    behind = [
        submit(cluster.b if n % 2 else cluster.a, f"final_answer({n})", session) for n in range(3)
    ]
    for server in (cluster.a, cluster.b):
        wait_depth(server, 3)
    (cluster.base / "workspace" / session / "go").write_text("")  # the kernel's cwd
    assert wait_done(cluster.a, first)["result"] == "released"
    assert [wait_done(cluster.a, i)["result"] for i in behind] == [0, 1, 2]
    for server in (cluster.a, cluster.b):
        wait_depth(server, 0)


def test_sigkill_with_six_tasks_in_flight_each_answered_once(
    cluster: Cluster, postgres: Postgres, llm: FakeLLM
) -> None:
    """Six sessions' second turns in flight on a; a is killed; b finishes them in kernels it
    rehydrates from the first turns' notebooks (a's kernels died with it)."""
    cluster.b.stop()  # a alone takes the turns: three run, three wait in the queue
    firsts = [
        submit(cluster.a, f"base = {10 * n}\nfinal_answer(base)", f"ses-kill-{n}") for n in range(6)
    ]
    assert [wait_done(cluster.a, i)["result"] for i in firsts] == [10 * n for n in range(6)]
    ids = [
        submit(cluster.a, f"import time\ntime.sleep(15)\nfinal_answer(base + {n})", f"ses-kill-{n}")
        for n in range(6)
    ]
    for execution_id in ids[:3]:
        wait_running(cluster.a, execution_id)
    b = cluster.restart("b")
    cluster.a.stop(signal.SIGKILL)
    try:
        records = [wait_done(b, i, timeout=180) for i in ids]
        assert [r["status"] for r in records] == ["completed"] * 6, [r["error"] for r in records]
        assert [r["result"] for r in records] == [11 * n for n in range(6)]
        engine = create_engine(postgres.url)
        try:
            with engine.connect() as conn:
                counts = dict(
                    conn.execute(
                        text(
                            "SELECT session_id, count(*) FROM executions "
                            "WHERE session_id LIKE 'ses-kill-%' GROUP BY session_id"
                        )
                    ).all()
                )
        finally:
            engine.dispose()
        assert counts == {f"ses-kill-{n}": 2 for n in range(6)}  # one record per turn
        for n in range(6):  # and one turn per task in the session's history
            third = submit(b, "final_answer('third')", f"ses-kill-{n}")
            assert wait_done(b, third)["status"] == "completed"
        prompts = [r.last_user_text() for r in llm.requests if "'third'" in r.last_user_text()]
        assert len(prompts) == 6
        for prompt in prompts:
            assert prompt.count("time.sleep(15)") == 1, prompt
    finally:
        cluster.restart("a")
