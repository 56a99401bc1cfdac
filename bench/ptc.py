"""PTC vs one tool per LLM turn, through the fake LLM server (real SDK, kernels and skills).

Both styles face the same deterministic "model" (the fake server's responder): for PTC it writes
one program per task; for native tool calling it asks for one tool per turn and answers from the
full results it was sent. The fake server counts prompt tokens the same way for both. A second
figure: a follow-up turn that reuses a kernel variable against one that must fetch again.

    .venv/bin/python bench/ptc.py        # writes bench/results/ptc.json
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agent.config import load_settings  # noqa: E402
from agent.llm.base import LLMProvider, Message, ToolSpec  # noqa: E402
from agent.runtime import AgentRuntime  # noqa: E402
from agent.tasks import run_task  # noqa: E402
from skills.records import SkillContext  # noqa: E402
from tests.fake_llm import FakeLLM, FakeToolCall, RecordedRequest, Reply  # noqa: E402

RESULTS = REPO / "bench" / "results" / "ptc.json"
TARGETS = {"prompt_token_reduction": 0.5, "round_trip_ratio": 3.0}

Plan = Callable[[list[Any]], tuple[str, dict[str, Any]] | None]


@dataclass
class Task:
    name: str
    prompt: str
    plan: Plan  # tool style: the next call given the results so far, None when done
    answer: Callable[[list[Any]], Any]  # tool style: the answer from all results
    program: str  # PTC: the program computing the same answer in the kernel


CITIES = ["Paris", "Berlin", "Madrid", "Rome"]
SKUS = ["A1", "B2", "C3", "D4", "E5"]
QUERIES = ["jupyter kernel", "sandbox limits", "notebook replay"]


def _seq(calls: list[tuple[str, dict[str, Any]]]) -> Plan:
    return lambda results: calls[len(results)] if len(results) < len(calls) else None


def _eur_plan(results: list[Any]) -> tuple[str, dict[str, Any]] | None:
    if len(results) < 2:
        return "get_price", {"sku": ["A1", "B2"][len(results)]}
    if len(results) < 4:
        price = results[len(results) - 2]["price"]
        return "convert_currency", {"amount": price, "from_currency": "USD", "to_currency": "EUR"}
    return None


def _shipped(orders: list[dict[str, Any]]) -> float:
    return round(sum(o["qty"] * o["unit_price"] for o in orders if o["status"] == "shipped"), 2)


TASKS = [
    Task(
        "warmest-city",
        "Which of Paris, Berlin, Madrid and Rome is warmest right now?",
        _seq([("get_weather", {"city": c}) for c in CITIES]),
        lambda rs: max(rs, key=lambda r: r["temp_c"])["city"],
        "reports = [get_weather(c) for c in ['Paris', 'Berlin', 'Madrid', 'Rome']]\n"
        "final_answer(max(reports, key=lambda r: r['temp_c'])['city'])",
    ),
    Task(
        "shipped-spend",
        "Compare the shipped spend of customers C-17 and C-42.",
        _seq([("list_orders", {"customer": c}) for c in ("C-17", "C-42")]),
        lambda rs: {"C-17": _shipped(rs[0]), "C-42": _shipped(rs[1])},
        "def shipped(orders):\n"
        "    return round(sum(o['qty'] * o['unit_price'] for o in orders if o['status'] == 'shipped'), 2)\n"
        "final_answer({c: shipped(list_orders(c)) for c in ('C-17', 'C-42')})",
    ),
    Task(
        "basket-total",
        "What is the total price of SKUs A1, B2, C3, D4 and E5?",
        _seq([("get_price", {"sku": s}) for s in SKUS]),
        lambda rs: round(sum(r["price"] for r in rs), 2),
        "final_answer(round(sum(get_price(s)['price'] for s in ['A1', 'B2', 'C3', 'D4', 'E5']), 2))",
    ),
    Task(
        "kernel-docs",
        "How many distinct kernel pages do the searches 'jupyter kernel', 'sandbox limits' and "
        "'notebook replay' find?",
        _seq([("search_docs", {"query": q}) for q in QUERIES]),
        lambda rs: len({h["url"] for r in rs for h in r if "/kernel/" in h["url"]}),
        "hits = [h for q in ['jupyter kernel', 'sandbox limits', 'notebook replay'] for h in search_docs(q)]\n"
        "final_answer(len({h['url'] for h in hits if '/kernel/' in h['url']}))",
    ),
    Task(
        "eur-total",
        "What do SKUs A1 and B2 cost together in EUR?",
        _eur_plan,
        lambda rs: round(rs[2] + rs[3], 2),
        "eur = [convert_currency(get_price(s)['price'], 'USD', 'EUR') for s in ['A1', 'B2']]\n"
        "final_answer(round(sum(eur), 2))",
    ),
]


def _task_of(request: RecordedRequest) -> Task | None:
    text = json.dumps(request.json.get("messages", [])[:2])
    return next((t for t in TASKS if t.prompt in text or json.dumps(t.prompt)[1:-1] in text), None)


FOLLOW_UP_1 = "List the orders of customer C-17."
FOLLOW_UP_2 = "How many of customer C-17's orders are shipped?"


def _tool_results(request: RecordedRequest) -> list[Any]:
    return [json.loads(m["content"]) for m in request.json["messages"] if m.get("role") == "tool"]


def responder(request: RecordedRequest) -> Reply:
    """The deterministic model: the same decisions and answers in both styles."""
    body = request.json
    last = request.last_user_text()
    system = next((m["content"] for m in body["messages"] if m.get("role") == "system"), "")
    if FOLLOW_UP_2 in last:
        count = "final_answer(sum(1 for o in orders if o['status'] == 'shipped'))"
        if "- orders: list" in system:
            return Reply(text=f"`orders` is in the kernel.\n```python\n{count}\n```")
        return Reply(text=f"Fetch again.\n```python\norders = list_orders('C-17')\n{count}\n```")
    if FOLLOW_UP_1 in last:
        program = "orders = list_orders('C-17')\nfinal_answer(len(orders))"
        return Reply(text=f"Fetch them.\n```python\n{program}\n```")
    task = _task_of(request)
    if task is None:
        return Reply(status=400, error=f"bench model: unknown task in {last[:80]!r}")
    if body.get("tools"):
        results = _tool_results(request)
        step = task.plan(results)
        if step is None:
            return Reply(text=json.dumps(task.answer(results)))
        return Reply(text="", tool_calls=[FakeToolCall(step[0], step[1])])
    return Reply(text=f"One program does it all.\n```python\n{task.program}\n```")


async def tool_style(
    runtime: AgentRuntime, provider: LLMProvider, task: Task, tools: list[ToolSpec]
) -> dict[str, Any]:
    """The classic loop: one native tool call per LLM turn, every full result sent back."""
    context = SkillContext(session_id="bench-tools", workspace=Path(tempfile.gettempdir()))
    messages = [Message("user", task.prompt)]
    system = "You are a helpful agent. Call one tool at a time; answer with JSON when done."
    tokens = 0
    for trips in range(1, 21):
        completion = await provider.complete(messages, system=system, tools=tools)
        tokens += completion.usage.input_tokens
        if not completion.tool_calls:
            return {
                "answer": json.loads(completion.text),
                "prompt_tokens": tokens,
                "round_trips": trips,
                "skill_calls": trips - 1,  # one tool per turn
            }
        call = completion.tool_calls[0]
        messages.append(Message("assistant", completion.text, tool_calls=[call]))
        outcome = await runtime.skills.call(call.name, [], call.arguments, context)
        messages.append(Message("tool", json.dumps(outcome.result), tool_call_id=call.id))
    raise RuntimeError(f"{task.name}: the tool loop did not finish")


async def ptc_style(runtime: AgentRuntime, task: Task) -> dict[str, Any]:
    record = await run_task(task.prompt, runtime=runtime)
    await runtime.close_session(record.session_id)
    if record.status != "completed":
        raise RuntimeError(f"{task.name}: PTC run {record.status}: {record.error}")
    return {
        "answer": record.result,
        "prompt_tokens": record.usage.input_tokens,
        "round_trips": record.usage.llm_calls,
        "skill_calls": len(record.skill_calls),
    }


async def follow_up(runtime: AgentRuntime) -> dict[str, Any]:
    """Turn 2 reusing `orders` from turn 1's kernel vs a turn 2 whose kernel lost it."""
    figures: dict[str, Any] = {}
    for mode in ("reuse", "refetch"):
        first = await run_task(FOLLOW_UP_1, runtime=runtime)
        if mode == "refetch":
            runtime.settings.server.rehydrate = False  # the kernel's state is gone for good
            await runtime.kernels.close(first.session_id)
        second = await run_task(FOLLOW_UP_2, runtime=runtime, session_id=first.session_id)
        runtime.settings.server.rehydrate = True
        await runtime.close_session(first.session_id)
        figures[mode] = {
            "answer": second.result,
            "prompt_tokens": second.usage.input_tokens,
            "skill_calls": len(second.skill_calls),
            "skill_result_bytes": sum(c.result_size for c in second.skill_calls),
        }
    reuse, refetch = figures["reuse"], figures["refetch"]
    figures["same_answer"] = reuse["answer"] == refetch["answer"]
    figures["skill_calls_saved"] = refetch["skill_calls"] - reuse["skill_calls"]
    figures["prompt_tokens_saved"] = refetch["prompt_tokens"] - reuse["prompt_tokens"]
    return figures


async def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, FakeLLM() as fake:
        os.chmod(tmp, 0o711)  # sandboxed kernels run as per-session uids and must reach it
        base = Path(tmp)
        (base / "config").mkdir()
        (base / "config" / "skills.yaml").write_text(
            yaml.safe_dump({"extra_dirs": [str(REPO / "bench" / "ptc_skills")], "reload": False})
        )
        (base / "config" / "agents.yaml").write_text(
            yaml.safe_dump(
                {"agents": {"master": {"description": "Benchmark agent.", "max_steps": 3}}}
            )
        )
        fake.responder = responder
        settings = load_settings(
            env={
                "AGENT_CONFIG_DIR": str(base / "config"),
                "DEFAULT_LLM_PROVIDER": "openai-compatible",
                "DEFAULT_LLM_MODEL": "bench-model",
                "LLM_BASE_URL": fake.openai_base_url,
                "LLM_API_KEY": "bench",
                "NOTEBOOKS_DIR": str(base / "notebooks"),
                "WORKSPACE_DIR": str(base / "workspace"),
                "KERNEL_POOL_SIZE": "1",
            },
            root=REPO,
            read_dotenv=False,
        )
        async with AgentRuntime(settings) as runtime:
            provider = runtime.llm.get()
            infos = runtime.skills.select("*")
            tools = [ToolSpec(i.python_name, i.description, i.json_schema) for i in infos]
            rows = []
            for task in TASKS:
                ptc = await ptc_style(runtime, task)
                native = await tool_style(runtime, provider, task, tools)
                rows.append(
                    {
                        "task": task.name,
                        "ptc": ptc,
                        "tools": native,
                        "same_answer": ptc["answer"] == native["answer"],
                    }
                )
            later = await follow_up(runtime)
    ptc_tokens = sum(r["ptc"]["prompt_tokens"] for r in rows)
    tool_tokens = sum(r["tools"]["prompt_tokens"] for r in rows)
    ptc_trips = sum(r["ptc"]["round_trips"] for r in rows)
    tool_trips = sum(r["tools"]["round_trips"] for r in rows)
    summary = {
        "tasks": len(rows),
        "same_answers": all(r["same_answer"] for r in rows),
        "prompt_tokens": {"ptc": ptc_tokens, "tools": tool_tokens},
        "prompt_token_reduction": round(1 - ptc_tokens / tool_tokens, 3),
        "round_trips": {"ptc": ptc_trips, "tools": tool_trips},
        "round_trip_ratio": round(tool_trips / ptc_trips, 2),
        "targets": TARGETS,
    }
    summary["meets_targets"] = (
        summary["same_answers"]
        and summary["prompt_token_reduction"] >= TARGETS["prompt_token_reduction"]
        and summary["round_trip_ratio"] >= TARGETS["round_trip_ratio"]
    )
    return {"summary": summary, "tasks": rows, "follow_up": later}


if __name__ == "__main__":
    figures = asyncio.run(main())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures["summary"], indent=2))
    print(json.dumps({k: v for k, v in figures["follow_up"].items()}, indent=2))
    sys.exit(0 if figures["summary"]["meets_targets"] else 1)
