"""Fixtures of the skill suites: the local web fakes, a skill registry, a temporary workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from skills import SkillContext, SkillRegistry, SkillsConfig
from tests.skills.fake_web import FakeWeb, serve_fake_web


@pytest.fixture(scope="session")
def fake_web() -> Iterator[FakeWeb]:
    with serve_fake_web() as web:
        yield web


@pytest.fixture(scope="module")
async def builtins(fake_web: FakeWeb) -> AsyncIterator[SkillRegistry]:
    config = SkillsConfig(
        reload=False,
        http_fetch_allow_hosts=[f"127.0.0.1:{fake_web.port}"],
        web_search={"searxng_url": fake_web.base, "timeout_s": 5},
    )
    registry = SkillRegistry(config)
    await registry.start()
    yield registry
    await registry.close()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


@pytest.fixture
def context(workspace: Path) -> SkillContext:
    return SkillContext(session_id="test-session", workspace=workspace)
