"""Scale-out benchmark: tasks/s of one app instance on SQLite with the in-process queue (the
baseline, `make run`'s mode) against one and two instances on PostgreSQL with the procrastinate
queue, all on this same 2-core machine, so the ratios say what the shared queue costs and what a
second instance gains here (not on two machines).

Each run submits TASKS tasks over SESSIONS sessions through REST (round-robin over the instances)
and waits until all are terminal; the fake LLM answers at once with a one-line program. Figures
go to bench/results/scale.json.

Remote kernel hosts (`--remote`, also part of a full run): two SSH kernel hosts made as network
namespaces on this machine (tests/scale/kernel_hosts.py), tasks/s of one instance with its kernels
on one host and on two, and, in-process, the p50 of a warm cell and of one skill call's round trip
(timed inside the kernel) in a remote kernel against a local one, rounds interleaved. The hosts
share this machine's two cores, so two hosts cannot add CPU here: the figure shows what the
placement costs, not what a second machine would give. `--remote` keeps the other figures already
in the results file.

Attach (`--attach`, also part of a full run): two instances on PostgreSQL with their kernels on the
SSH hosts; each of ATTACH_SESSIONS sessions takes ATTACH_TURNS turns on the first instance, then
one on the second (the first SIGSTOPped, so the second's worker takes it). That turn's latency,
submit to done, with KERNEL_STATE_KEY set (the second attaches to the running kernel) against a
pair without it (the second rehydrates from the notebooks), and a turn on the same instance as
the floor; both pairs in the same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.app.conftest import Server, server_env, start_server  # noqa: E402
from tests.fake_llm import FakeLLM  # noqa: E402
from tests.scale.conftest import throwaway_postgres  # noqa: E402
from tests.scale.kernel_hosts import KernelHosts, kernel_hosts  # noqa: E402

TASKS = 48
SESSIONS = 12
ROUNDS = 2
REPLY = "```python\nfinal_answer(1)\n```"
RESULTS = REPO / "bench" / "results" / "scale.json"


def _wait_all(servers: list[Server], ids: list[str], limit_s: float = 600.0) -> None:
    deadline = time.monotonic() + limit_s
    left = set(ids)
    with httpx.Client(timeout=30) as client:
        while left and time.monotonic() < deadline:
            for execution_id in list(left):
                url = f"{servers[0].url}/agent/executions/{execution_id}"
                status = client.get(url).json()["status"]
                if status in ("completed", "failed", "cancelled"):
                    if status != "completed":
                        raise RuntimeError(f"{execution_id} ended {status}")
                    left.discard(execution_id)
            time.sleep(0.05)
    if left:
        raise RuntimeError(f"{len(left)} tasks did not finish")


def _throughput(servers: list[Server], tag: str) -> float:
    """Tasks per second for TASKS tasks over SESSIONS sessions, submitted round-robin."""
    with httpx.Client(timeout=30) as client:
        started = time.perf_counter()
        ids = []
        for n in range(TASKS):
            server = servers[n % len(servers)]
            body = {"task": f"task {n}", "sessionId": f"{tag}-{n % SESSIONS}"}
            response = client.post(f"{server.url}/agent/execute", json=body)
            response.raise_for_status()
            ids.append(response.json()["executionId"])
        _wait_all(servers, ids)
        return TASKS / (time.perf_counter() - started)


def _run(fake: FakeLLM, base: Path, instances: int, **extra: str) -> list[float]:
    env = server_env(fake, base, AGENT_CONCURRENCY="4", MAX_KERNELS="8", **extra)
    servers = [start_server(env, base, name=f"i{n}") for n in range(instances)]
    try:
        _throughput(servers, f"warm-{base.name}")  # kernels and pools warm for every session
        return [_throughput(servers, f"r{r}-{base.name}") for r in range(ROUNDS)]
    finally:
        for server in servers:
            server.stop()


CELL_ROUNDS = 6
CELLS = 20
CALL = "import time as _t\n_s = _t.perf_counter(); echo('a'); print(_t.perf_counter() - _s)"


class _Echo:
    ok, error, error_type = True, None, None

    def __init__(self, value: Any) -> None:
        self.result = value


async def _echo(name: str, args: list[Any], kwargs: dict[str, Any]) -> _Echo:
    return _Echo(args[0])


async def _latencies(hosts: KernelHosts, root: Path) -> dict[str, Any]:
    """p50 of a warm `x = 1` and of one skill call's round trip, local vs remote, interleaved."""
    from kernels import KernelConfig, SessionKernels, SkillStub
    from kernels.config import SshHosts

    common = {"pool_size": 0, "runtime_dir": root / "rt"}
    local = SessionKernels(KernelConfig(workspace_root=root / "local", **common))
    ssh = SshHosts(hosts=hosts.addresses[:1], response_ip=hosts.gateway_ip, log_dir=hosts.home)
    remote = SessionKernels(
        KernelConfig(placement="ssh", ssh=ssh, workspace_root=root / "remote", **common)
    )
    cells: dict[str, list[float]] = {"local": [], "remote": []}
    calls: dict[str, list[float]] = {"local": [], "remote": []}
    try:
        await local.start()
        await remote.start()
        kernels = {"local": await local.open("lat"), "remote": await remote.open("lat")}
        for kernel in kernels.values():
            await kernel.install_stubs([SkillStub("echo", "(text: str) -> str", "Echo.")])
            for _ in range(5):
                await kernel.run("x = 1")
        for _ in range(CELL_ROUNDS):
            for where, kernel in kernels.items():
                for _ in range(CELLS):
                    started = time.perf_counter()
                    await kernel.run("x = 1")
                    cells[where].append((time.perf_counter() - started) * 1000)
                for _ in range(CELLS):
                    result = await kernel.run(CALL, on_call=_echo)
                    calls[where].append(float(result.stdout.strip()) * 1000)
    finally:
        await local.shutdown()
        await remote.shutdown()
    p50 = {
        "cell_ms": {w: round(statistics.median(v), 2) for w, v in cells.items()},
        "skill_call_ms": {w: round(statistics.median(v), 2) for w, v in calls.items()},
    }
    p50["ratios"] = {
        "cell_remote_vs_local": round(p50["cell_ms"]["remote"] / p50["cell_ms"]["local"], 3),
        "skill_call_remote_vs_local": round(
            p50["skill_call_ms"]["remote"] / p50["skill_call_ms"]["local"], 3
        ),
    }
    return p50


def _remote(fake: FakeLLM, root: Path) -> dict[str, Any]:
    with kernel_hosts(root / "hosts") as hosts:
        home = os.environ.get("HOME", "")
        os.environ["HOME"] = str(hosts.home)  # paramiko reads ~/.ssh
        try:
            figures: dict[str, Any] = {}
            for count in (1, 2):
                base = root / f"remote{count}"
                base.mkdir()
                shutil.copytree(hosts.home / ".ssh", base / ".ssh")  # the servers' HOME
                figures[f"remote_{count}_hosts"] = _run(
                    fake,
                    base,
                    1,
                    KERNEL_PLACEMENT="ssh",
                    KERNEL_HOSTS=",".join(hosts.addresses[:count]),
                    KERNEL_RESPONSE_IP=hosts.gateway_ip,
                    KERNEL_LOG_DIR=str(base),
                )
            local = root / "local1"
            local.mkdir()
            figures["local_1"] = _run(fake, local, 1)
            latency = asyncio.run(_latencies(hosts, root / "lat"))
        finally:
            os.environ["HOME"] = home
    best = {name: max(values) for name, values in figures.items()}
    return {
        "tasks_per_s": figures,
        "ratios": {
            "remote_1_host_vs_local": round(best["remote_1_hosts"] / best["local_1"], 3),
            "remote_2_hosts_vs_1_host": round(best["remote_2_hosts"] / best["remote_1_hosts"], 3),
        },
        "p50": latency,
        "tasks": TASKS,
        "sessions": SESSIONS,
        "rounds": ROUNDS,
        "cell_rounds": CELL_ROUNDS,
        "cells_per_round": CELLS,
    }


ATTACH_SESSIONS = 6
ATTACH_TURNS = 3  # turns on the first instance before the handover (each replayed without attach)
TURN = "import time as _t\n_t.sleep(0.05)\nv{n} = {n}\nfinal_answer(v{n})"


def _turn_ms(on: Server, other: Server, code: str, session: str) -> float:
    from tests.scale.test_attach import paused
    from tests.scale.test_instances import submit

    with paused(other):
        started = time.perf_counter()
        execution_id = submit(on, f"{code}", session)
        _wait_all([on], [execution_id])
        return (time.perf_counter() - started) * 1000


def _handover(fake: FakeLLM, base: Path, pg_url: str, hosts: KernelHosts, key: str | None) -> dict:
    from tests.scale.test_instances import respond

    fake.responder = respond
    shutil.copytree(hosts.home / ".ssh", base / ".ssh")
    extra = {"KERNEL_STATE_KEY": key} if key else {}
    env = server_env(
        fake,
        base,
        DATABASE_URL=pg_url,
        KERNEL_PLACEMENT="ssh",
        KERNEL_HOSTS=",".join(hosts.addresses),
        KERNEL_RESPONSE_IP=hosts.gateway_ip,
        KERNEL_LOG_DIR=str(base),
        QUEUE_STALLED_MS="4000",
        **extra,
    )
    a, b = (start_server(env, base, name=f"h{n}") for n in range(2))
    same: list[float] = []
    other: list[float] = []
    try:
        for n in range(ATTACH_SESSIONS):
            session = f"{base.name}-{n}"
            for t in range(ATTACH_TURNS):
                same.append(_turn_ms(a, b, TURN.format(n=t), session))
            other.append(_turn_ms(b, a, TURN.format(n=ATTACH_TURNS), session))
    finally:
        for server in (a, b):
            server.stop()
        fake.responder = lambda request: REPLY
    # the first turn of each session starts its kernel: not a same-instance turn's floor
    warm = [ms for i, ms in enumerate(same) if i % ATTACH_TURNS]
    return {"same_instance_ms": round(statistics.median(warm), 1), "other_instance_ms": other}


def _attach(fake: FakeLLM, root: Path) -> dict[str, Any]:
    from cryptography.fernet import Fernet

    with kernel_hosts(root / "hosts") as hosts, throwaway_postgres(root / "pg") as pg:
        home = os.environ.get("HOME", "")
        os.environ["HOME"] = str(hosts.home)
        try:
            runs = {}
            for name, key in (("attach", Fernet.generate_key().decode()), ("rehydrate", None)):
                base = root / name
                base.mkdir()
                runs[name] = _handover(fake, base, pg.url, hosts, key)
        finally:
            os.environ["HOME"] = home
    p50 = {name: statistics.median(run["other_instance_ms"]) for name, run in runs.items()}
    return {
        "other_instance_turn_ms": {n: r["other_instance_ms"] for n, r in runs.items()},
        "p50_other_instance_turn_ms": {n: round(v, 1) for n, v in p50.items()},
        "p50_same_instance_turn_ms": {n: r["same_instance_ms"] for n, r in runs.items()},
        "ratios": {"attach_vs_rehydrate": round(p50["attach"] / p50["rehydrate"], 3)},
        "sessions": ATTACH_SESSIONS,
        "turns_before_handover": ATTACH_TURNS,
    }


def main() -> int:
    global TASKS, SESSIONS, ROUNDS
    if "--attach" in sys.argv[1:]:
        results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
        with FakeLLM() as fake, tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            Path(tmp).chmod(0o755)
            (Path(tmp) / "pg").mkdir()
            results["attach"] = _attach(fake, Path(tmp))
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        print(json.dumps(results["attach"], indent=1))
        return 0
    if "--remote" in sys.argv[1:]:
        TASKS, SESSIONS, ROUNDS = 24, 6, 1  # a shorter run when only the remote part is asked
        results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
        with FakeLLM() as fake, tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            fake.responder = lambda request: REPLY
            Path(tmp).chmod(0o755)
            results["remote_kernels"] = _remote(fake, Path(tmp))
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        print(json.dumps(results["remote_kernels"], indent=1))
        return 0
    results: dict[str, Any] = {"tasks": TASKS, "sessions": SESSIONS, "rounds": ROUNDS}
    with FakeLLM() as fake, tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        fake.responder = lambda request: REPLY
        root = Path(tmp)
        root.chmod(0o755)
        base = root / "sqlite"
        base.mkdir()
        sqlite = _run(fake, base, 1)
        pg_root = root / "pg"
        pg_root.mkdir()
        with throwaway_postgres(pg_root) as pg:
            one = root / "pg1"
            one.mkdir()
            pg_one = _run(fake, one, 1, DATABASE_URL=pg.url)
            two = root / "pg2"
            two.mkdir()
            pg_two = _run(fake, two, 2, DATABASE_URL=pg.url)
        results["remote_kernels"] = _remote(fake, root)
        (root / "attach").mkdir()
        (root / "attach" / "pg").mkdir()
        results["attach"] = _attach(fake, root / "attach")
    best = {"sqlite_1": max(sqlite), "postgres_1": max(pg_one), "postgres_2": max(pg_two)}
    results["tasks_per_s"] = {"sqlite_1": sqlite, "postgres_1": pg_one, "postgres_2": pg_two}
    results["ratios"] = {
        "postgres_1_vs_sqlite_1": round(best["postgres_1"] / best["sqlite_1"], 3),
        "postgres_2_vs_postgres_1": round(best["postgres_2"] / best["postgres_1"], 3),
        "postgres_2_vs_sqlite_1": round(best["postgres_2"] / best["sqlite_1"], 3),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
