"""The kernel layer's costs, as ratios against baselines measured in the same run.

- a warm cell (`x = 1`): a sandboxed session kernel vs the same layer with `isolation: none` and
  vs a bare jupyter_client kernel (no project code);
- the PTC program (three skill calls, then final_answer; bench/kernels_peers.py): sandboxed,
  its calls crossing to the host, vs the unsandboxed session kernel, vs smolagents'
  LocalPythonExecutor (in-process, not isolated) and vs a local Jupyter Kernel Gateway over its
  websocket API with the tools defined inside the kernel;
- a new session from the warm pool vs a cold kernel start;
- the skill-call round trip (timed inside the kernel) vs a bare stdin-channel round trip;
- the RSS of an idle kernel.

The peers live in a throwaway venv under /tmp that this script makes from /usr/bin/python3 with
pip (they are not project dependencies); when they cannot be installed, their figures say why.
Variants are measured in interleaved rounds so that the machine's noise falls on all alike.

    .venv/bin/python bench/kernels.py     # writes bench/results/kernels.json
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from jupyter_client import AsyncKernelManager  # noqa: E402
from jupyter_client.asynchronous import AsyncKernelClient  # noqa: E402

from bench.kernels_peers import EXPECTED, PROGRAM, tool_functions  # noqa: E402
from kernels import KernelConfig, SessionKernel, SessionKernels, SkillStub  # noqa: E402
from kernels.kernelspec import SandboxSpecManager  # noqa: E402

RESULTS = REPO / "bench" / "results" / "kernels.json"
PEERS_VENV = Path(os.environ.get("BENCH_PEERS_VENV", "/tmp/agent-bench-peers"))
PEERS = ["smolagents==1.26.0", "jupyter_kernel_gateway==3.0.1", "ipykernel==7.4.0"]
ROUNDS, PER_ROUND = 6, 10
TARGETS = {
    "warm_cell_sandbox_ratio": 1.2,  # sandboxed / unsandboxed session kernel
    "ptc_vs_gateway_ratio": 1.0,  # sandboxed, calls on the host / gateway, tools in the kernel
    "pool_open_p50_ms": 50.0,
    "skill_round_trip_p50_ms": 2.0,
}
STUBS = [
    SkillStub("web_search", "(query: str, max_results: int = 5) -> list[dict]", "Search."),
    SkillStub("summarize", "(text: str, max_words: int = 120) -> str", "Shorten a text."),
    SkillStub("code_analysis", "(code: str, language: str = 'python') -> dict", "Analyse."),
]
ROUND_TRIPS = """\
import time as _t
_ms = []
for _ in range(50):
    _s = _t.perf_counter()
    web_search("q", max_results=1)
    _ms.append((_t.perf_counter() - _s) * 1000)
final_answer(_ms)
"""
BARE_ROUND_TRIPS = """\
import time as _t
_ms = []
for _ in range(50):
    _s = _t.perf_counter()
    input("call")
    _ms.append((_t.perf_counter() - _s) * 1000)
"""


def p50(values: list[float]) -> float:
    return statistics.median(values)


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(p50(values), 3),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1], 3),
        "n": len(values),
    }


@dataclass
class Outcome:
    ok: bool
    result: Any = None
    error: str | None = None
    error_type: str | None = None


TOOLS = tool_functions()


async def host_skills(name: str, args: list[Any], kwargs: dict[str, Any]) -> Outcome:
    """The three tools, answered on the host like real skills."""
    if name not in TOOLS:
        return Outcome(False, error=f"unknown skill {name}")
    return Outcome(True, TOOLS[name](*args, **kwargs))


# --- the peers' venv and process ---------------------------------------------------------------


def peers_python() -> tuple[Path | None, str]:
    """The throwaway venv's python with the peers installed, or None and why not."""
    python = PEERS_VENV / "bin" / "python"
    check = "import smolagents, kernel_gateway, ipykernel, websocket"
    if (
        python.exists()
        and subprocess.run([python, "-c", check], capture_output=True).returncode == 0
    ):
        return python, "reused"
    shutil.rmtree(PEERS_VENV, ignore_errors=True)
    steps = [
        ["/usr/bin/python3", "-m", "venv", str(PEERS_VENV)],
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PEERS],
    ]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"{' '.join(step[:4])}: {exc}"
        if done.returncode != 0:
            lines = [ln for ln in (done.stderr or done.stdout).splitlines() if "ERROR" in ln]
            return None, f"{' '.join(step[:4])} failed: {(lines or ['?'])[-1][:300]}"
    return python, "installed " + ", ".join(PEERS)


class Peers:
    """bench/kernels_peers.py running in the peers' venv, one JSON command per line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, python: Path) -> Peers:
        script = REPO / "bench" / "kernels_peers.py"
        proc = await asyncio.create_subprocess_exec(
            str(python),
            str(script),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd="/tmp",
        )
        return cls(proc)

    async def run(self, cmd: str, n: int) -> list[float]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps({"cmd": cmd, "n": n}) + "\n").encode())
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), 300)
        if not line:
            raise RuntimeError(f"the peers process ended (exit {self.proc.returncode})")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return [float(ms) for ms in answer["ms"]]

    async def close(self) -> None:
        if self.proc.returncode is None and self.proc.stdin is not None:
            self.proc.stdin.write(b'{"cmd": "quit"}\n')
            self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()


# --- a bare jupyter_client kernel (no project code) --------------------------------------------


class BareKernel:
    """Plain ipykernel over TCP through jupyter_client, as the design notes measured it."""

    def __init__(self, config: KernelConfig) -> None:
        specs = SandboxSpecManager(config)
        self.manager = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)
        self.client: AsyncKernelClient | None = None

    async def start(self) -> float:
        started = time.perf_counter()
        await self.manager.start_kernel()
        self.client = self.manager.client()
        self.client.start_channels()
        await self.client.wait_for_ready(timeout=60)
        return (time.perf_counter() - started) * 1000

    async def execute(self, code: str, stdin_reply: str | None = None) -> dict[str, Any]:
        """Until the reply and idle, every message matched by msg_id; answers input() at once."""
        client = self.client
        assert client is not None, "start() first"
        msg_id = client.execute(code, allow_stdin=stdin_reply is not None)
        reply: dict[str, Any] | None = None
        idle = False

        async def answer_stdin() -> None:
            while True:
                msg = await client.get_stdin_msg()
                if msg["parent_header"].get("msg_id") == msg_id:
                    client.input(stdin_reply or "")

        stdin_task = asyncio.create_task(answer_stdin()) if stdin_reply is not None else None
        try:
            while reply is None or not idle:
                if reply is None:
                    msg = await client.get_shell_msg()
                    if msg["parent_header"].get("msg_id") == msg_id:
                        reply = msg["content"]
                    continue
                msg = await client.get_iopub_msg()
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status":
                    idle = msg["content"]["execution_state"] == "idle"
        finally:
            if stdin_task is not None:
                stdin_task.cancel()
        return reply

    async def timed(self, code: str) -> float:
        started = time.perf_counter()
        await self.execute(code)
        return (time.perf_counter() - started) * 1000

    async def stop(self) -> None:
        if self.client is not None:
            self.client.stop_channels()
        if self.manager.has_kernel:
            await self.manager.shutdown_kernel(now=True)

    def pid(self) -> int:
        return int(getattr(self.manager.provisioner, "pid", 0) or 0)


# --- measuring ---------------------------------------------------------------------------------


async def timed_run(session: SessionKernel, code: str, *, calls: bool = False) -> float:
    result = await session.run(code, on_call=host_skills if calls else None)
    if not result.ok:
        raise RuntimeError(f"{session.session_id}: {result.status} {result.error}")
    if calls and result.final_answer != EXPECTED:
        raise RuntimeError(f"{session.session_id}: wrong answer {result.final_answer!r}")
    return result.duration_ms


async def rounds(variants: dict[str, Callable[[], Awaitable[list[float]]]]) -> dict[str, Any]:
    """Each variant PER_ROUND times per round, ROUNDS rounds, interleaved; errors kept."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    errors: dict[str, str] = {}
    for _ in range(ROUNDS):
        for name, measure in variants.items():
            if name in errors:
                continue
            try:
                samples[name] += await measure()
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"
    found: dict[str, Any] = {name: summary(ms) for name, ms in samples.items() if ms}
    found.update({name: {"error": error} for name, error in errors.items()})
    return found


def repeat(n: int, once: Callable[[], Awaitable[float]]) -> Callable[[], Awaitable[list[float]]]:
    async def measure() -> list[float]:
        return [await once() for _ in range(n)]

    return measure


def ratio(figures: dict[str, Any], top: str, bottom: str) -> float | None:
    a, b = figures.get(top, {}).get("p50_ms"), figures.get(bottom, {}).get("p50_ms")
    return round(a / b, 3) if a and b else None


def memory(pid: int) -> dict[str, float]:
    """RSS and USS (memory only this process holds) of one process."""
    proc = psutil.Process(pid)
    info = proc.memory_full_info()
    mib = 1024 * 1024
    return {"rss_mib": round(info.rss / mib, 1), "uss_mib": round(info.uss / mib, 1)}


def tree_rss(launcher_pid: int) -> float:
    """RSS of a launcher and everything under it (prlimit execs bwrap, bwrap's init, the kernel)."""
    procs = [psutil.Process(launcher_pid), *psutil.Process(launcher_pid).children(recursive=True)]
    return round(sum(p.memory_info().rss for p in procs) / (1024 * 1024), 1)


async def wait_pool(kernels: SessionKernels, size: int) -> None:
    for _ in range(600):
        if kernels.stats()["pooled"] >= size:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the warm pool did not refill within 30 s")


async def pool_figures(warm: SessionKernels, cold: SessionKernels) -> dict[str, Any]:
    """open() of a new session: from the warm pool vs a cold start (pool empty)."""
    opened: list[float] = []
    first_run: list[float] = []
    cold_ms: list[float] = []
    for i in range(8):
        await wait_pool(warm, warm.config.pool_size)
        started = time.perf_counter()
        session = await warm.open(f"pool-{i}")
        opened.append((time.perf_counter() - started) * 1000)
        await session.install_stubs(STUBS)
        await session.run("x = 1")
        first_run.append((time.perf_counter() - started) * 1000)
        await warm.close(session.session_id)
    for i in range(5):
        started = time.perf_counter()
        session = await cold.open(f"cold-{i}")
        cold_ms.append((time.perf_counter() - started) * 1000)
        await cold.close(session.session_id)
    found = {
        "warm_open": summary(opened),
        "warm_open_stubs_first_cell": summary(first_run),
        "cold_open": summary(cold_ms),
    }
    found["cold_vs_warm_ratio"] = ratio(found, "cold_open", "warm_open")
    return found


async def round_trip_figures(sandboxed: SessionKernel, bare: BareKernel) -> dict[str, Any]:
    """Calls timed inside the kernel, 50 per cell, rounds of ours and the bare kernel's."""

    async def ours() -> list[float]:
        result = await sandboxed.run(ROUND_TRIPS, on_call=host_skills)
        return [float(ms) for ms in result.final_answer]

    async def theirs() -> list[float]:
        await bare.execute(BARE_ROUND_TRIPS, stdin_reply="[]")
        return await bare_values(bare)

    found = await rounds({"sandboxed_skill_call": ours, "bare_stdin_round_trip": theirs})
    found["ratio"] = ratio(found, "sandboxed_skill_call", "bare_stdin_round_trip")
    return found


async def bare_values(bare: BareKernel) -> list[float]:
    assert bare.client is not None
    msg_id = bare.client.execute(
        "", silent=True, user_expressions={"ms": "__import__('json').dumps(_ms)"}
    )
    while True:
        msg = await bare.client.get_shell_msg()
        if msg["parent_header"].get("msg_id") == msg_id:
            text = msg["content"]["user_expressions"]["ms"]["data"]["text/plain"]
            return [float(ms) for ms in json.loads(text.strip("'"))]


def bench_config(name: str, **overrides: Any) -> KernelConfig:
    root = Path(f"/tmp/akb-{os.getpid()}")
    fields: dict[str, Any] = {
        "workspace_root": root / "ws" / name,
        "runtime_dir": root / "rt",
        "max_kernels": 4,
        "pool_size": 1,
        "idle_cull_s": 3600,
    }
    fields.update(overrides)
    return KernelConfig(**fields)


async def main() -> dict[str, Any]:
    figures: dict[str, Any] = {
        "machine": {"cores": os.cpu_count(), "load_1m_at_start": os.getloadavg()[0]},
        "targets": TARGETS,
    }
    python, how = await asyncio.to_thread(peers_python)
    figures["peers"] = {"venv": str(PEERS_VENV), "status": how}
    print(f"peers: {how}", file=sys.stderr)
    root = Path(f"/tmp/akb-{os.getpid()}")
    os.mkdir(root, 0o711)  # session uids must traverse it
    sandboxed = SessionKernels(bench_config("sandboxed", pool_size=2))
    plain = SessionKernels(bench_config("plain", isolation="none"))
    cold = SessionKernels(bench_config("cold", pool_size=0))
    bare = BareKernel(sandboxed.config)
    peers: Peers | None = None
    try:
        for kernels in (sandboxed, plain, cold):
            await kernels.start()
        figures["isolation"] = {
            "mode": sandboxed.isolation.mode,
            "network": sandboxed.isolation.network,
            "warnings": sandboxed.isolation.warnings,
        }
        bare_cold = await bare.start()
        ours = await sandboxed.open("bench-sandboxed")
        theirs = await plain.open("bench-plain")
        for session in (ours, theirs):
            await session.install_stubs(STUBS)
            for _ in range(5):  # warm up: imports, first-call paths
                await timed_run(session, PROGRAM, calls=True)
        if python is not None:
            peers = await Peers.start(python)

        print("warm cells ...", file=sys.stderr)
        warm = await rounds(
            {
                "sandboxed": repeat(PER_ROUND, lambda: timed_run(ours, "x = 1")),
                "unsandboxed_session": repeat(PER_ROUND, lambda: timed_run(theirs, "x = 1")),
                "bare_jupyter_client": repeat(PER_ROUND, lambda: bare.timed("x = 1")),
            }
        )
        warm["sandbox_ratio"] = ratio(warm, "sandboxed", "unsandboxed_session")
        warm["vs_bare_ratio"] = ratio(warm, "sandboxed", "bare_jupyter_client")
        figures["warm_cell"] = warm

        print("the PTC program ...", file=sys.stderr)
        variants: dict[str, Callable[[], Awaitable[list[float]]]] = {
            "sandboxed": repeat(PER_ROUND, lambda: timed_run(ours, PROGRAM, calls=True)),
            "unsandboxed_session": repeat(
                PER_ROUND, lambda: timed_run(theirs, PROGRAM, calls=True)
            ),
        }
        if peers is not None:
            for cmd in ("smolagents", "gateway", "gateway_quickack"):
                variants[cmd] = lambda cmd=cmd: peers.run(cmd, PER_ROUND)  # type: ignore[misc]
        ptc = await rounds(variants)
        if peers is None:
            for cmd in ("smolagents", "gateway", "gateway_quickack"):
                ptc[cmd] = {"error": f"peers not installed: {how}"}
        ptc["vs_unsandboxed_ratio"] = ratio(ptc, "sandboxed", "unsandboxed_session")
        ptc["vs_gateway_ratio"] = ratio(ptc, "sandboxed", "gateway")
        ptc["vs_gateway_quickack_ratio"] = ratio(ptc, "sandboxed", "gateway_quickack")
        ptc["vs_smolagents_ratio"] = ratio(ptc, "sandboxed", "smolagents")
        figures["ptc_program"] = ptc

        print("skill-call round trips ...", file=sys.stderr)
        figures["skill_round_trip"] = await round_trip_figures(ours, bare)

        print("idle memory ...", file=sys.stderr)
        await asyncio.sleep(1.0)
        assert ours.live is not None and ours.live.pid and theirs.live and theirs.live.pid
        figures["idle_memory"] = {
            "sandboxed_kernel": memory(ours.live.pid),
            "sandboxed_with_bwrap_rss_mib": tree_rss(ours.live.launcher_pid),
            "unsandboxed_session_kernel": memory(theirs.live.pid),
            "bare_kernel": memory(bare.pid()),
        }

        print("warm pool vs cold start ...", file=sys.stderr)
        await sandboxed.close(ours.session_id)
        await plain.close(theirs.session_id)
        await cold.open("cold-warmup")  # start() pooled one kernel: take it, then all are cold
        await cold.close("cold-warmup")
        pool = await pool_figures(sandboxed, cold)
        pool["bare_jupyter_client_cold_start_ms"] = round(bare_cold, 1)
        figures["new_session"] = pool
    finally:
        if peers is not None:
            await peers.close()
        await bare.stop()
        for kernels in (sandboxed, plain, cold):
            await kernels.shutdown()
        shutil.rmtree(root, ignore_errors=True)

    figures["met"] = {
        "warm_cell_sandbox_ratio": _at_most(figures["warm_cell"]["sandbox_ratio"], 1.2),
        "ptc_vs_gateway_ratio": _at_most(figures["ptc_program"]["vs_gateway_ratio"], 1.0),
        "ptc_vs_gateway_quickack_ratio": _at_most(
            figures["ptc_program"]["vs_gateway_quickack_ratio"], 1.0
        ),
        "pool_open_p50_ms": _at_most(figures["new_session"]["warm_open"]["p50_ms"], 50.0),
        "skill_round_trip_p50_ms": _at_most(
            figures["skill_round_trip"]["sandboxed_skill_call"]["p50_ms"], 2.0
        ),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def _at_most(value: float | None, target: float) -> bool | None:
    return None if value is None else value <= target


def report(figures: dict[str, Any]) -> str:
    warm, ptc = figures["warm_cell"], figures["ptc_program"]
    trip, pool, mem = figures["skill_round_trip"], figures["new_session"], figures["idle_memory"]

    def ms(entry: dict[str, Any]) -> str:
        return f"{entry['p50_ms']:.2f} ms" if "p50_ms" in entry else entry.get("error", "?")

    lines = [
        f"{'what':58} {'figure':>28}  target",
        f"{'warm cell, sandboxed':58} {ms(warm['sandboxed']):>28}",
        f"{'warm cell, same layer unsandboxed':58} {ms(warm['unsandboxed_session']):>28}",
        f"{'warm cell, bare jupyter_client':58} {ms(warm['bare_jupyter_client']):>28}",
        f"{'  sandboxed / unsandboxed':58} {warm['sandbox_ratio']!s:>28}  <= 1.2",
        f"{'  sandboxed / bare':58} {warm['vs_bare_ratio']!s:>28}",
        f"{'PTC program, sandboxed (3 calls to the host)':58} {ms(ptc['sandboxed']):>28}",
        f"{'PTC program, unsandboxed session kernel':58} {ms(ptc['unsandboxed_session']):>28}",
        f"{'PTC program, smolagents LocalPythonExecutor':58} {ms(ptc['smolagents']):>28}",
        f"{'PTC program, Kernel Gateway (tools in kernel)':58} {ms(ptc['gateway']):>28}",
        f"{'PTC program, Kernel Gateway, client TCP_QUICKACK':58} "
        f"{ms(ptc['gateway_quickack']):>28}",
        f"{'  sandboxed / gateway':58} {ptc['vs_gateway_ratio']!s:>28}  <= 1.0",
        f"{'  sandboxed / gateway with quick ACKs':58} {ptc['vs_gateway_quickack_ratio']!s:>28}",
        f"{'  sandboxed / smolagents (in-process, not isolated)':58} "
        f"{ptc['vs_smolagents_ratio']!s:>28}",
        f"{'  sandboxed / unsandboxed':58} {ptc['vs_unsandboxed_ratio']!s:>28}",
        f"{'skill-call round trip, sandboxed':58} {ms(trip['sandboxed_skill_call']):>28}  <= 2 ms",
        f"{'stdin round trip, bare kernel':58} {ms(trip['bare_stdin_round_trip']):>28}",
        f"{'new session from the warm pool: open()':58} {ms(pool['warm_open']):>28}  <= 50 ms",
        f"{'  open + stubs + first cell':58} {ms(pool['warm_open_stubs_first_cell']):>28}",
        f"{'new session, cold start: open()':58} {ms(pool['cold_open']):>28}",
        f"{'  cold / warm':58} {pool['cold_vs_warm_ratio']!s:>28}",
        f"{'bare jupyter_client cold start (one)':58} "
        f"{pool['bare_jupyter_client_cold_start_ms']:>25} ms",
        f"{'idle kernel RSS / USS, sandboxed':58} "
        f"{mem['sandboxed_kernel']['rss_mib']:>14} / {mem['sandboxed_kernel']['uss_mib']} MiB",
        f"{'  with bwrap and prlimit, RSS':58} {mem['sandboxed_with_bwrap_rss_mib']:>24} MiB",
        f"{'idle kernel RSS / USS, bare':58} "
        f"{mem['bare_kernel']['rss_mib']:>14} / {mem['bare_kernel']['uss_mib']} MiB",
        f"peers: {figures['peers']['status']}",
        f"targets met: {figures['met']}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(asyncio.run(main())))
