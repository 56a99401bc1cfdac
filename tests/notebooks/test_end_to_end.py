"""A real agent run leaves a notebook papermill replays offline; a session's state survives restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest

import kernels
from agent.config import Settings, load_settings
from agent.records import ExecutionRecord
from tests.fake_llm import FakeLLM

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not hasattr(kernels, "SessionKernels"), reason="the kernels layer has not landed yet"
)

PROGRAM = """I will analyse the snippet, show it and answer.

```python
from IPython.display import HTML, Image, display
import io
from PIL import Image as PILImage
report = code_analysis("def add(a, b):\\n    return a + b\\n")
names = [f["name"] for f in report["functions"]]
print("functions:", names)
display(HTML("<b>analysed</b>"))
buffer = io.BytesIO()
PILImage.new("RGB", (4, 4), "blue").save(buffer, "PNG")
display(Image(buffer.getvalue()))
final_answer({"functions": names, "valid": report["valid"]})
```
"""


def notebook_settings(fake: FakeLLM, base: Path) -> Settings:
    env = {
        "DEFAULT_LLM_PROVIDER": "openai-compatible",
        "DEFAULT_LLM_MODEL": "fake-model",
        "LLM_BASE_URL": fake.openai_base_url,
        "LLM_API_KEY": "test-key",
        "LLM_MAX_RETRIES": "0",
        "NOTEBOOKS_DIR": str(base / "notebooks"),
        "WORKSPACE_DIR": str(base / "workspace"),
        "DATABASE_URL": f"sqlite:///{base / 'agent.db'}",
        "KERNEL_POOL_SIZE": "1",
        "MAX_KERNELS": "3",
    }
    return load_settings(env=env, root=REPO, read_dotenv=False)


@pytest.fixture(scope="module")
async def runtime(
    fake_llm_server: FakeLLM, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Any]:
    from agent.runtime import AgentRuntime

    settings = notebook_settings(fake_llm_server, tmp_path_factory.mktemp("e2e"))
    async with AgentRuntime(settings) as started:
        yield started


async def _run(runtime: Any, fake: FakeLLM, reply: str, **options: Any) -> ExecutionRecord:
    from agent import run_task

    fake.queue(reply)
    record = await run_task("Analyse a snippet", runtime=runtime, **options)
    assert record.status == "completed", record.error
    return record


async def test_a_run_replays_offline_with_no_llm_request(
    runtime: Any, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    record = await _run(runtime, fake_llm, PROGRAM)
    assert record.result == {"functions": ["add"], "valid": True}
    path = Path(record.notebook or "")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    (program,) = [c for c in nb.cells if c.metadata.get("agent", {}).get("role") == "program"]
    mimes = [m for o in program.outputs for m in o.get("data", {})]
    assert "text/html" in mimes and "image/png" in mimes
    assert any("functions: ['add']" in o.get("text", "") for o in program.outputs)
    assert program.metadata.agent.skill_calls[0]["skill"] == "code-analysis"

    requests = len(fake_llm.requests)
    out = await asyncio.to_thread(
        papermill.execute_notebook,
        str(path),
        str(tmp_path / "replayed.ipynb"),
        kernel_name="python3",
        progress_bar=False,
    )
    assert len(fake_llm.requests) == requests
    nbformat.validate(out)
    check = out.cells[-2]
    assert "answer reproduced" in check.outputs[0].text
    assert check.outputs[1].data["text/plain"] == repr(record.result)


async def test_live_mode_runs_the_real_skill(
    runtime: Any, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    record = await _run(runtime, fake_llm, PROGRAM)
    out = await asyncio.to_thread(
        papermill.execute_notebook,
        str(record.notebook),
        str(tmp_path / "live.ipynb"),
        kernel_name="python3",
        progress_bar=False,
        parameters={"skill_mode": "live"},
    )
    check = out.cells[-1 - 1]
    assert check.outputs[-1].data["text/plain"] == repr(record.result)
    assert not any("differs" in o.get("text", "") for o in check.outputs)


async def test_a_sessions_variable_survives_a_kernel_restart(
    runtime: Any, fake_llm: FakeLLM
) -> None:
    first = await _run(
        runtime,
        fake_llm,
        '```python\nreport = code_analysis("x = 1\\n")\nsecret = len(report["issues"]) + 41\n'
        "final_answer(secret)\n```",
        session_id="sess-rehydrate",
    )
    assert first.result == 41
    await runtime.kernels.close("sess-rehydrate")  # evicted: the next turn gets a fresh kernel
    second = await _run(
        runtime, fake_llm, "```python\nfinal_answer(secret + 1)\n```", session_id="sess-rehydrate"
    )
    assert second.result == 42
    assert "partial" not in str(fake_llm.requests[-1].json).lower()
