"""The fake LLM server itself: default reply, responder, recording, error bodies, standalone mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import openai

from tests.fake_llm import NOTHING_SCRIPTED, FakeLLM, RecordedRequest, Reply

ROOT = Path(__file__).resolve().parents[2]


def test_nothing_scripted_is_a_500_saying_so_in_both_wire_formats(fake_llm: FakeLLM) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    openai_reply = httpx.post(f"{fake_llm.openai_base_url}/chat/completions", json=body)
    anthropic_reply = httpx.post(f"{fake_llm.anthropic_base_url}/v1/messages", json=body)
    assert openai_reply.status_code == anthropic_reply.status_code == 500
    assert openai_reply.json()["error"]["message"] == NOTHING_SCRIPTED
    assert anthropic_reply.json() == {
        "type": "error",
        "error": {"type": "api_error", "message": NOTHING_SCRIPTED},
    }


def test_queue_first_then_responder_and_every_request_recorded(fake_llm: FakeLLM) -> None:
    seen: list[str] = []

    def echo(request: RecordedRequest) -> str:
        seen.append(request.last_user_text())
        return "echo: " + request.last_user_text()

    fake_llm.responder = echo
    fake_llm.queue(Reply(text="queued", headers={"x-extra": "1"}))
    url = f"{fake_llm.openai_base_url}/chat/completions"
    texts = []
    for word in ("one", "two"):
        body = {"model": "m", "messages": [{"role": "user", "content": word}]}
        reply = httpx.post(url, json=body, headers={"authorization": "Bearer k"})
        texts.append(reply.json()["choices"][0]["message"]["content"])
    assert texts == ["queued", "echo: two"]
    assert seen == ["two"]
    assert [r.json["messages"][0]["content"] for r in fake_llm.requests] == ["one", "two"]
    assert fake_llm.requests[0].headers["authorization"] == "Bearer k"
    assert fake_llm.requests[0].wire == "openai"


def test_error_injection_sends_status_headers_and_vendor_error_body(fake_llm: FakeLLM) -> None:
    fake_llm.queue(Reply(status=429, headers={"retry-after": "7"}, error="slow down"))
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    reply = httpx.post(f"{fake_llm.anthropic_base_url}/v1/messages", json=body)
    assert reply.status_code == 429
    assert reply.headers["retry-after"] == "7"
    assert reply.json()["error"] == {"type": "rate_limit_error", "message": "slow down"}


def test_unknown_path_and_bad_json_are_clear_errors(fake_llm: FakeLLM) -> None:
    assert httpx.post(f"{fake_llm.base_url}/v1/embeddings", json={}).status_code == 404
    bad = httpx.post(f"{fake_llm.openai_base_url}/chat/completions", content=b"{nope")
    assert bad.status_code == 400
    assert "not JSON" in bad.json()["error"]["message"]


def test_standalone_server_answers_from_a_reply_script(tmp_path: Path) -> None:
    script = tmp_path / "replies.yaml"
    script.write_text('- match: "\\\\*\\\\*"\n  reply: "power"\n- reply: "anything else"\n')
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_llm", "--port", "0", "--script", str(script)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base_url = line.split(" on ")[1].split()[0]
        client = openai.OpenAI(api_key="k", base_url=base_url + "/v1", max_retries=0)
        answers = [
            client.chat.completions.create(
                model="demo", messages=[{"role": "user", "content": text}]
            )
            .choices[0]
            .message.content
            for text in ("what is 2**20", "hello")
        ]
        client.close()
        assert answers == ["power", "anything else"]
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
