"""Auth and limits across two server processes on one database; restart and SIGTERM behaviour."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

from agent.http.auth import hash_key
from tests.app.conftest import Server, runtime_missing, server_env, start_server
from tests.fake_llm import FakeLLM, Reply

A, B = {"x-api-key": "key-a"}, {"Authorization": "Bearer key-b"}
PER_MINUTE = 12  # above what the cross-key test spends, so only the rate-limit test meets it


@pytest.fixture(scope="module")
def pair(
    fake_llm_server: FakeLLM, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server, Path]]:
    reason = runtime_missing()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("pair")
    keys = base / "keys.yaml"
    keys.write_text(yaml.safe_dump({"keys": [{"id": "team-b", "sha256": hash_key("key-b")}]}))
    env = server_env(
        fake_llm_server,
        base,
        AGENT_API_KEYS="key-a",
        AGENT_API_KEYS_FILE=str(keys),
        RATE_LIMIT_PER_MINUTE=str(PER_MINUTE),
        MAX_RUNNING_TASKS_PER_KEY="2",
    )
    one, two = start_server(env, base, "one"), start_server(env, base, "two")
    yield one, two, base
    one.stop()
    two.stop()


def test_keys_and_cross_key_404(pair: tuple[Server, Server, Path], fake_llm: FakeLLM) -> None:
    one, two, _ = pair
    assert httpx.get(f"{one.url}/agent/executions").status_code == 401
    assert (
        httpx.get(f"{one.url}/agent/executions", headers={"x-api-key": "wrong"}).status_code == 401
    )
    fake_llm.queue(Reply(text="```python\nfinal_answer(1)\n```"))
    made = httpx.post(
        f"{one.url}/agent/execute", json={"task": "mine", "sessionId": "ses-a"}, headers=A
    ).json()
    eid = made["executionId"]
    for path in (
        f"/agent/executions/{eid}",
        f"/agent/executions/{eid}/notebook",
        "/agent/sessions/ses-a",
        "/agent/sessions/ses-a/files",
    ):
        assert httpx.get(f"{two.url}{path}", headers=B).status_code == 404, path
    assert httpx.post(f"{two.url}/agent/executions/{eid}/cancel", headers=B).status_code == 404
    assert httpx.delete(f"{two.url}/agent/sessions/ses-a", headers=B).status_code == 404
    taken = httpx.post(
        f"{two.url}/agent/execute", json={"task": "x", "sessionId": "ses-a"}, headers=B
    )
    assert taken.status_code == 404
    assert httpx.get(f"{two.url}/agent/executions/{eid}", headers=A).status_code == 200  # same DB


def test_rate_limit_counts_across_both_servers(pair: tuple[Server, Server, Path]) -> None:
    one, two, _ = pair
    urls = [f"{server.url}/skills" for server in (one, two)]
    codes = [httpx.get(urls[n % 2], headers=B).status_code for n in range(PER_MINUTE + 2)]
    assert 429 in codes and codes.count(200) <= PER_MINUTE
    refused = httpx.get(f"{one.url}/skills", headers=B)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1


def test_restart_marks_running_interrupted_and_sigterm_leaves_no_kernel(
    fake_llm_server: FakeLLM, tmp_path: Path
) -> None:
    if runtime_missing():
        pytest.skip(runtime_missing() or "")
    env = server_env(fake_llm_server, tmp_path)
    fake_llm_server.reset()
    fake_llm_server.queue(Reply(text="```python\nimport time; time.sleep(60)\n```", delay_s=0))
    first = start_server(env, tmp_path, "first")
    eid = httpx.post(f"{first.url}/agent/execute", json={"task": "hang"}).json()["executionId"]
    for _ in range(200):
        if httpx.get(f"{first.url}/agent/executions/{eid}").json()["status"] == "running":
            break
    first.stop(signal.SIGKILL)
    second = start_server(env, tmp_path, "second")
    record = httpx.get(f"{second.url}/agent/executions/{eid}").json()
    assert record["status"] == "failed" and record["error"]["code"] == "interrupted"
    fake_llm_server.queue("```python\nfinal_answer(2)\n```")
    httpx.post(f"{second.url}/agent/execute", json={"task": "warm a kernel"})
    kids = psutil.Process(second.process.pid).children(recursive=True)
    assert second.stop(signal.SIGTERM) == 0
    assert not [p.pid for p in kids if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
