"""End-to-end benchmark: REST submit → completed vs the library (run_task) called directly.

The fake LLM answers at once with a one-line program; each client has its own session. Figures
(p50 latency, tasks/s at 1, 8 and 32 clients; overhead = REST p50 - library p50) go to
bench/results/e2e.json. Sections are functions in SECTIONS; the Gradio part adds its own.
Targets: ≤ 5 ms p50 overhead per task, ≥ 0.9× the library's throughput at 8 clients.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.app.conftest import server_env, start_server  # noqa: E402
from tests.fake_llm import FakeLLM  # noqa: E402

CLIENTS = (1, 8, 32)
TASKS_PER_CLIENT = 8
REPLY = "```python\nfinal_answer(1)\n```"
RESULTS = REPO / "bench" / "results" / "e2e.json"


# Every session keeps its kernel (no eviction or rehydration in the figures) and tasks of
# different sessions run side by side: the bench measures the layers, not the slot bounds.
BENCH_ENV = {"MAX_KERNELS": "40", "KERNEL_POOL_SIZE": "2", "AGENT_CONCURRENCY": "8"}


async def _measure(clients: int, one: Callable[[int, int], Awaitable[None]]) -> dict[str, float]:
    # one untimed task per client first: its session's kernel starts outside the figures
    await asyncio.gather(*(one(n, -1) for n in range(clients)))
    latencies: list[float] = []

    async def client(n: int) -> None:
        for k in range(TASKS_PER_CLIENT):
            begin = time.perf_counter()
            await one(n, k)
            latencies.append((time.perf_counter() - begin) * 1000)

    begin = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    wall = time.perf_counter() - begin
    return {"p50_ms": statistics.median(latencies), "tasks_per_s": len(latencies) / wall}


async def _sink(event: object) -> None:
    """The library baseline's event listener: takes the live events, as a UI would."""


async def library(fake: FakeLLM, base: Path) -> dict[str, Any]:
    from agent.config import load_settings
    from agent.runtime import AgentRuntime
    from agent.tasks import run_task

    env = server_env(fake, base / "lib", **BENCH_ENV)
    settings = load_settings(env=env, root=REPO, read_dotenv=False)
    out: dict[str, Any] = {}
    async with AgentRuntime(settings) as runtime:
        for clients in CLIENTS:

            async def one(n: int, k: int, c: int = clients) -> None:
                # with a listener, like every front end: the reply streams and events flow
                await run_task("bench", session_id=f"lib-{c}-{n}", runtime=runtime, on_event=_sink)

            out[str(clients)] = await _measure(clients, one)
    return out


async def rest(fake: FakeLLM, base: Path) -> dict[str, Any]:
    env = server_env(fake, base / "rest", RATE_LIMIT_IP_PER_MINUTE="0", **BENCH_ENV)
    (base / "rest").mkdir(parents=True, exist_ok=True)
    server = start_server(env, base / "rest", "bench")
    out: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as api:
            for clients in CLIENTS:

                async def one(n: int, k: int, c: int = clients) -> None:
                    body = {"task": "bench", "sessionId": f"rest-{c}-{n}"}
                    eid = (await api.post("/agent/execute", json=body)).json()["executionId"]
                    async with api.stream("GET", f"/agent/executions/{eid}/events") as stream:
                        async for line in stream.aiter_lines():
                            if line.startswith("event: done"):
                                break

                out[str(clients)] = await _measure(clients, one)
    finally:
        server.stop()
    return out


SECTIONS: dict[str, Callable[[FakeLLM, Path], Awaitable[dict[str, Any]]]] = {
    "library": library,
    "rest": rest,
}


def summarize(figures: dict[str, Any]) -> dict[str, Any]:
    lib, api = figures["library"], figures["rest"]
    return {
        str(c): {
            "overhead_p50_ms": api[str(c)]["p50_ms"] - lib[str(c)]["p50_ms"],
            "throughput_ratio": api[str(c)]["tasks_per_s"] / lib[str(c)]["tasks_per_s"],
        }
        for c in CLIENTS
    }


async def main() -> int:
    with FakeLLM() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.responder = lambda request: REPLY  # type: ignore[assignment,return-value]
        os.chmod(tmp, 0o711)  # sandboxed kernels run as per-session uids and must reach it
        figures = {name: await section(fake, Path(tmp)) for name, section in SECTIONS.items()}
    figures["rest_vs_library"] = summarize(figures)
    figures["targets"] = {"overhead_p50_ms": 5.0, "throughput_ratio_at_8": 0.9}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures["rest_vs_library"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
