"""End-to-end benchmark: REST submit → completed vs the library (run_task) called directly, and
Gradio's `/run` through `gradio_client` vs a bare echo endpoint of the same Gradio app.

The fake LLM answers at once with a one-line program, from a process of its own (as a real LLM is
never in-process: it would share the library's interpreter and the GIL); each client has its own
session. The library and REST are measured in turn, ROUNDS times at each client count (the REST
server paused while the library runs), and the medians kept, so the shared machine's drift hits
both. REST is measured three ways: `rest` submits and reads the event stream to its end (two
requests and an SSE stream a task), `rest_stream` submits with `Accept: text/event-stream` and
reads the events in that answer (one request, streamed), `rest_wait` sends one request with
`Prefer: wait` and gets the finished record in its answer. The REST client is aiohttp on kept-alive connections: it takes
~1.3-3 ms of CPU a task from the same two cores (httpx took ~4). Figures (p50 latency,
tasks/s at 1, 8 and 32 clients; overhead = REST p50 - library p50; CPU ms per task of the app
process, its kernels and the bench's own client) go to bench/results/e2e.json. Sections are
functions in SECTIONS.
Targets: ≤ 5 ms p50 overhead per task, ≥ 0.9× the library's throughput at 8 clients; Gradio's
`/run` p50 ≤ 1.2 × (the echo's p50 + the library's p50): our adapter adds little to what Gradio
and the agent cost on their own.

`python bench/e2e.py serve-gradio` is the Gradio section's server: app.py's app plus `/echo`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.app.conftest import free_port, server_env, start_server  # noqa: E402

CLIENTS = (1, 8, 32)
GRADIO_CLIENTS = (1, 8)
GRADIO_ROUNDS = 3  # echo and run measured in turn, so drift on the shared cores hits both
TASKS_PER_CLIENT = 8
ROUNDS = 5  # library and REST rounds in turn at each client count; medians are reported
REPLY = "```python\nfinal_answer(1)\n```"
RESULTS = REPO / "bench" / "results" / "e2e.json"
WAIT = {"Prefer": "wait=25"}
STREAM = {"Accept": "text/event-stream"}


# Every session keeps its kernel (no eviction or rehydration in the figures) and tasks of
# different sessions run side by side: the bench measures the layers, not the slot bounds.
BENCH_ENV = {"MAX_KERNELS": "48", "KERNEL_POOL_SIZE": "2", "AGENT_CONCURRENCY": "8"}


@dataclass
class FakeProcess:
    """`python -m tests.fake_llm` in a process of its own; what server_env reads of a FakeLLM."""

    process: subprocess.Popen[str]
    openai_base_url: str


@contextlib.contextmanager
def fake_llm_process(base: Path) -> Iterator[FakeProcess]:
    script = base / "replies.yaml"
    script.write_text(yaml.safe_dump([{"reply": REPLY}]))
    port = free_port()
    argv = [sys.executable, "-m", "tests.fake_llm", "--port", str(port), "--script", str(script)]
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "fake LLM listening on ..." once it listens
        if "listening" not in line:
            raise RuntimeError(f"the fake LLM did not start: {line!r}")
        yield FakeProcess(process, f"http://127.0.0.1:{port}/v1")
    finally:
        process.terminate()
        process.wait(timeout=10)


def _cpu_of(pid: int, apart: frozenset[int] = frozenset()) -> tuple[float, float]:
    """CPU seconds of a process and of its descendants (the session kernels), leaving out the
    `apart` processes and theirs (the bench's fake LLM and REST server are the library's
    children here, not its kernels)."""
    own = psutil.Process(pid)
    skip: set[int] = set()
    for other in apart:
        with contextlib.suppress(psutil.Error):
            skip |= {other, *(p.pid for p in psutil.Process(other).children(recursive=True))}
    kids = 0.0
    for child in own.children(recursive=True):
        if child.pid in skip:
            continue
        with contextlib.suppress(psutil.Error):
            times = child.cpu_times()
            kids += times.user + times.system
    times = own.cpu_times()
    return times.user + times.system, kids


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _measure(
    clients: int,
    one: Callable[[int, int], Awaitable[None]],
    app_pid: int | None = None,
    apart: frozenset[int] = frozenset(),
) -> dict[str, float]:
    """p50 and tasks/s; with `app_pid`, CPU ms per task of the app, its kernels and (when the
    app is another process) this process, the client."""
    # one untimed task per client first: its session's kernel starts outside the figures
    await asyncio.gather(*(one(n, -1) for n in range(clients)))
    latencies: list[float] = []

    async def client(n: int) -> None:
        for k in range(TASKS_PER_CLIENT):
            begin = time.perf_counter()
            await one(n, k)
            latencies.append((time.perf_counter() - begin) * 1000)

    app_before = _cpu_of(app_pid, apart) if app_pid else (0.0, 0.0)
    own_before = _own_cpu()
    begin = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    wall = time.perf_counter() - begin
    out = {"p50_ms": statistics.median(latencies), "tasks_per_s": len(latencies) / wall}
    if app_pid:
        app_after, tasks = _cpu_of(app_pid, apart), len(latencies)
        out["app_cpu_ms"] = (app_after[0] - app_before[0]) * 1000 / tasks
        out["kernels_cpu_ms"] = (app_after[1] - app_before[1]) * 1000 / tasks
        if app_pid != os.getpid():
            out["client_cpu_ms"] = (_own_cpu() - own_before) * 1000 / tasks
    return out


async def _sink(event: object) -> None:
    """The library baseline's event listener: takes the live events, as a UI would."""


@contextlib.contextmanager
def _paused(pid: int) -> Iterator[None]:
    """The REST server stopped (SIGSTOP) while the library is measured: its idle work (Gradio's
    queue poll, timers) does not take the library's cores. Its kernels are idle then anyway."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def _median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


async def library_and_rest(fake: FakeProcess, base: Path) -> dict[str, Any]:
    """The library (run_task in this process) and REST (a server process) measured in turn,
    ROUNDS times at each client count, medians kept: the shared machine's drift hits both."""
    import aiohttp

    from agent.config import load_settings
    from agent.runtime import AgentRuntime
    from agent.tasks import run_task

    env = server_env(fake, base / "lib", **BENCH_ENV)
    settings = load_settings(env=env, root=REPO, read_dotenv=False)
    (base / "rest").mkdir(parents=True, exist_ok=True)
    server_vars = server_env(fake, base / "rest", RATE_LIMIT_IP_PER_MINUTE="0", **BENCH_ENV)
    server = start_server(server_vars, base / "rest", "bench")
    pid = server.process.pid
    apart = frozenset({pid, fake.process.pid})
    runs: dict[str, dict[int, list[dict[str, float]]]] = {
        "library": {},
        "rest": {},
        "rest_stream": {},
        "rest_wait": {},
    }
    try:
        async with (
            AgentRuntime(settings) as runtime,
            # kept-alive connections, as a client that polls or streams keeps them; given up
            # after 2 s idle, before the server's own keep-alive limit (uvicorn's 5 s) can close
            # one under a reuse, as it does on waking from a pause
            aiohttp.ClientSession(
                server.url, connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=2.0)
            ) as api,
        ):

            async def in_process(n: int, k: int, c: int) -> None:
                # with a listener, like every front end: the reply streams and events flow
                await run_task("bench", session_id=f"lib-{c}-{n}", runtime=runtime, on_event=_sink)

            async def over_rest(n: int, k: int, c: int) -> None:
                body = {"task": "bench", "sessionId": f"rest-{c}-{n}"}
                async with api.post("/agent/execute", json=body) as reply:
                    execution_id = (await reply.json())["executionId"]
                done = False
                async with api.get(f"/agent/executions/{execution_id}/events") as stream:
                    async for line in stream.content:  # to the stream's end: the connection
                        done = done or line.startswith(b"event: done")  # is kept for reuse
                if not done:
                    raise RuntimeError(f"{execution_id}: the stream ended without done")

            async def streamed(n: int, k: int, c: int) -> None:
                body = {"task": "bench", "sessionId": f"stream-{c}-{n}"}
                done = False
                async with api.post("/agent/execute", json=body, headers=STREAM) as stream:
                    async for line in stream.content:
                        done = done or line.startswith(b"event: done")
                if not done:
                    raise RuntimeError(f"{body['sessionId']}: the stream ended without done")

            async def waiting(n: int, k: int, c: int) -> None:
                # one request: `Prefer: wait` answers with the finished record (a session's
                # first task, which starts its kernel, may take longer: then long-poll it)
                body = {"task": "bench", "sessionId": f"wait-{c}-{n}"}
                async with api.post("/agent/execute", json=body, headers=WAIT) as reply:
                    record = await reply.json()
                while record.get("status") in ("queued", "running"):  # the 202's body too
                    path = f"/agent/executions/{record['executionId']}"
                    async with api.get(path, headers=WAIT) as reply:
                        record = await reply.json()
                if record.get("status") != "completed":
                    raise RuntimeError(f"Prefer: wait answered {reply.status} {record}")

            for clients in CLIENTS:
                for _ in range(ROUNDS):
                    with _paused(pid):
                        lib = await _measure(
                            clients,
                            functools.partial(in_process, c=clients),
                            app_pid=os.getpid(),
                            apart=apart,
                        )
                    runs["library"].setdefault(clients, []).append(lib)
                    api_run = await _measure(
                        clients, functools.partial(over_rest, c=clients), app_pid=pid
                    )
                    runs["rest"].setdefault(clients, []).append(api_run)
                    stream_run = await _measure(
                        clients, functools.partial(streamed, c=clients), app_pid=pid
                    )
                    runs["rest_stream"].setdefault(clients, []).append(stream_run)
                    wait_run = await _measure(
                        clients, functools.partial(waiting, c=clients), app_pid=pid
                    )
                    runs["rest_wait"].setdefault(clients, []).append(wait_run)
    finally:
        server.stop()
    return {
        name: {
            str(c): {**_median_of(r), "rounds": len(r), "tasks_per_s_by_round": _rates(r)}
            for c, r in by_count.items()
        }
        for name, by_count in runs.items()
    }


def _rates(runs: list[dict[str, float]]) -> list[float]:
    return [run["tasks_per_s"] for run in runs]


def serve_gradio() -> None:
    """The Gradio section's server: what app.py serves, plus a bare echo endpoint on the same
    Blocks (the baseline: Gradio's own cost of a `gradio_client` predict)."""
    from agent.offline import quiet_gradio

    quiet_gradio()
    import gradio as gr
    import uvicorn

    from agent.config import load_settings
    from agent.http import create_app
    from agent.ui import build_ui, mount_ui

    settings = load_settings()
    app = create_app(settings, ui=False)
    ctx = app.state.ctx
    ui = build_ui(ctx.service, ctx.runtime, ctx.keyring)

    async def echo(task: str, session_id: str) -> dict[str, Any]:
        return {"task": task, "sessionId": session_id}

    with ui:
        gr.api(echo, api_name="echo", queue=False)  # async and unqueued, as /run is
    app = mount_ui(app, ctx.service, ctx.runtime, ctx.keyring, ui=ui)
    server = settings.server
    uvicorn.run(
        app,
        host=server.host,
        port=server.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,  # clients' kept-alive connections must not hold the stop
    )


async def gradio(fake: FakeProcess, base: Path) -> dict[str, Any]:
    from gradio_client import Client

    os.environ["HF_HUB_OFFLINE"] = "1"  # Client() would otherwise ask the hub first
    env = server_env(fake, base / "gradio", RATE_LIMIT_IP_PER_MINUTE="0", **BENCH_ENV)
    argv = [sys.executable, str(REPO / "bench" / "e2e.py"), "serve-gradio"]
    server = start_server(env, base / "gradio", "bench-gradio", argv=argv)
    out: dict[str, Any] = {}
    clients: list[Client] = []
    try:
        clients = [
            Client(server.url, verbose=False, download_files=False)
            for _ in range(max(GRADIO_CLIENTS))
        ]
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            for count in GRADIO_CLIENTS:
                p50s: dict[str, list[float]] = {
                    e: [] for e in ("echo", "run", "raw_echo", "raw_run")
                }
                for _ in range(GRADIO_ROUNDS):
                    for endpoint in p50s:

                        async def one(n: int, k: int, c: int = count, e: str = endpoint) -> None:
                            session = f"gr-{c}-{n}"
                            if e.startswith("raw_"):  # Gradio's HTTP route, without the client
                                body = {"data": ["bench", session]}
                                (await http.post(f"/gradio_api/run/{e[4:]}", json=body)).json()
                                return
                            await asyncio.to_thread(
                                clients[n].predict, "bench", session, api_name=f"/{e}"
                            )

                        p50s[endpoint].append((await _measure(count, one))["p50_ms"])
                out[str(count)] = {f"{e}_p50_ms": statistics.median(v) for e, v in p50s.items()}
    finally:
        for client in clients:
            client.close()
        server.stop()
    return {"gradio": out}


# each section returns its figures by name
SECTIONS: dict[str, Callable[[FakeProcess, Path], Awaitable[dict[str, Any]]]] = {
    "rest": library_and_rest,  # "library" and "rest"
    "gradio": gradio,
}


def summarize_gradio(figures: dict[str, Any]) -> dict[str, Any]:
    """Gradio's /run against what it is made of: Gradio's own predict (the echo) plus the task
    run by the library."""
    out = {}
    for c in GRADIO_CLIENTS:
        ours, lib = figures["gradio"][str(c)], figures["library"][str(c)]["p50_ms"]
        out[str(c)] = {
            **ours,
            "library_p50_ms": lib,
            "ratio_run_to_echo_plus_library": ours["run_p50_ms"] / (ours["echo_p50_ms"] + lib),
            # the same over Gradio's HTTP route: gradio_client's own wait (it dominates a
            # predict here) is out, so what our /run adds to Gradio + the library shows
            "raw_ratio_run_to_echo_plus_library": ours["raw_run_p50_ms"]
            / (ours["raw_echo_p50_ms"] + lib),
            # and against REST, which shares the queue, the store and its writes with /run:
            # what the Gradio adapter itself adds
            "raw_ratio_run_to_echo_plus_rest": ours["raw_run_p50_ms"]
            / (ours["raw_echo_p50_ms"] + figures["rest"][str(c)]["p50_ms"]),
        }
    return out


def summarize(figures: dict[str, Any]) -> dict[str, Any]:
    """Each REST way (`rest`: submit, then the event stream to `done`; `rest_stream`: the
    events in the submit's own answer; `rest_wait`: one request with `Prefer: wait`) against
    the library at each client count."""
    lib = figures["library"]
    out: dict[str, Any] = {}
    for way in ("rest", "rest_stream", "rest_wait"):
        api = figures[way]
        out[way] = {
            str(c): {
                "overhead_p50_ms": api[str(c)]["p50_ms"] - lib[str(c)]["p50_ms"],
                "throughput_ratio": api[str(c)]["tasks_per_s"] / lib[str(c)]["tasks_per_s"],
                # each round's REST run against the library run just before it (the machine's
                # drift hits the pair alike), the median of those
                "paired_throughput_ratio": statistics.median(
                    a / b
                    for a, b in zip(
                        api[str(c)]["tasks_per_s_by_round"],
                        lib[str(c)]["tasks_per_s_by_round"],
                        strict=True,
                    )
                ),
                # what the server process spends per task beyond what the library's process
                # does (both without the LLM, which runs apart), and what the bench's HTTP
                # client adds on the same two cores
                "app_cpu_overhead_ms": api[str(c)]["app_cpu_ms"] - lib[str(c)]["app_cpu_ms"],
                "client_cpu_ms": api[str(c)]["client_cpu_ms"],
            }
            for c in CLIENTS
        }
    return out


async def main(names: list[str]) -> int:
    """All sections (written to RESULTS), or the named ones (printed only)."""
    chosen = {n: SECTIONS[n] for n in names} if names else SECTIONS
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o711)  # sandboxed kernels run as per-session uids and must reach it
        with fake_llm_process(Path(tmp)) as fake:
            figures: dict[str, Any] = {}
            for section in chosen.values():
                figures.update(await section(fake, Path(tmp)))
    if names:
        print(json.dumps(figures, indent=2))
        return 0
    figures["rest_vs_library"] = summarize(figures)
    figures["gradio_run_vs_echo"] = summarize_gradio(figures)
    figures["targets"] = {
        "overhead_p50_ms": 5.0,
        "throughput_ratio_at_8": 0.9,
        "gradio_ratio_run_to_echo_plus_library": 1.2,  # both ratios
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2))
    print(json.dumps({k: figures[k] for k in ("rest_vs_library", "gradio_run_vs_echo")}, indent=2))
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["serve-gradio"]:
        serve_gradio()
        sys.exit(0)
    unknown = [name for name in sys.argv[1:] if name not in SECTIONS]
    if unknown:
        sys.exit(f"usage: bench/e2e.py [serve-gradio | {' '.join(SECTIONS)}]; unknown: {unknown}")
    sys.exit(asyncio.run(main(sys.argv[1:])))
