"""Pytest fixtures: one fake LLM server per test session, reset before each test that uses it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_llm.server import FakeLLM

__all__ = ["fake_llm", "fake_llm_server"]


@pytest.fixture(scope="session")
def fake_llm_server() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


@pytest.fixture
def fake_llm(fake_llm_server: FakeLLM) -> FakeLLM:
    fake_llm_server.reset()
    return fake_llm_server
