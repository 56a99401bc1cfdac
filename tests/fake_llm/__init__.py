"""The fake LLM server: OpenAI and Anthropic wire formats on 127.0.0.1, scripted per test.

    from tests.fake_llm import FakeLLM, Reply
    with FakeLLM() as fake:
        fake.queue("hello", Reply(status=429, headers={"retry-after": "1"}))

The `fake_llm` pytest fixture (tests/fake_llm/fixtures.py) gives each test a reset server.
Standalone: `python -m tests.fake_llm --port 8099 --script replies.yaml`.
"""

from tests.fake_llm.replies import FakeToolCall, RecordedRequest, Reply, count_tokens, request_text
from tests.fake_llm.server import NOTHING_SCRIPTED, FakeLLM, Responder

__all__ = [
    "NOTHING_SCRIPTED",
    "FakeLLM",
    "FakeToolCall",
    "RecordedRequest",
    "Reply",
    "Responder",
    "count_tokens",
    "request_text",
]
