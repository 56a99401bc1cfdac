"""Scale-out benchmark: tasks/s of one app instance on SQLite with the in-process queue (the
baseline, `make run`'s mode) against one and two instances on PostgreSQL with the procrastinate
queue, all on this same 2-core machine, so the ratios say what the shared queue costs and what a
second instance gains here (not on two machines).

Each run submits TASKS tasks over SESSIONS sessions through REST (round-robin over the instances)
and waits until all are terminal; the fake LLM answers at once with a one-line program. Figures
go to bench/results/scale.json. Not measured (not built): remote kernel hosts.
"""

from __future__ import annotations

import json
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


def main() -> int:
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
