"""`python -m agent`: run a task with live progress, list agents, batch-run tasks with papermill.

    python -m agent run "task" [--json] [--session S] [--agent A] [--provider P] [--model M]
    python -m agent agents
    python -m agent batch tasks.yaml --out DIR [--parallel N]

Progress goes to stderr, the answer (or with --json the whole record) to stdout. Exit codes:
0 completed, 1 failed or cancelled, 2 bad usage or configuration, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from agent.config import ConfigError, Settings, load_settings
from agent.errors import AgentError
from agent.memory_store import RecordStore
from agent.progress import ProgressPrinter
from agent.records import ExecutionRecord
from agent.sessions import answer_text

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m agent", description="The PTC agent.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one task with live progress")
    run.add_argument("task")
    run.add_argument("--json", action="store_true", help="print the whole record as JSON")
    run.add_argument("--session", help="session id (earlier runs of it are its history)")
    run.add_argument("--agent", help="agent of config/agents.yaml (default: the default agent)")
    run.add_argument("--provider", help="LLM provider name (default: DEFAULT_LLM_PROVIDER)")
    run.add_argument("--model", help="model id for the provider")
    run.add_argument("--skills", help="comma-separated skills to allow (narrows the agent's)")
    run.add_argument("--quiet", action="store_true", help="no live progress")
    sub.add_parser("agents", help="list the configured agents")
    batch = sub.add_parser("batch", help="run a YAML list of tasks through papermill")
    batch.add_argument("tasks_file", type=Path)
    batch.add_argument("--out", type=Path, required=True, help="folder for the output notebooks")
    batch.add_argument("--parallel", type=int, default=1)
    return parser


async def _run(args: argparse.Namespace, settings: Settings, err: Console) -> ExecutionRecord:
    from agent.runtime import AgentRuntime

    skills = [s.strip() for s in args.skills.split(",") if s.strip()] if args.skills else None
    printer = None if args.quiet else ProgressPrinter(err, stream_llm=not args.json)
    async with contextlib.AsyncExitStack() as stack:
        store = await _store(settings, stack)
        runtime = await stack.enter_async_context(AgentRuntime(settings, store=store))
        runtime.check_request(agent=args.agent, available_skills=skills)
        record = runtime.new_record(args.task, session_id=args.session, agent=args.agent)
        return await runtime.execute(
            record,
            available_skills=skills,
            provider=args.provider,
            model=args.model,
            on_event=printer,
        )
    raise AssertionError("unreachable")


async def _store(settings: Settings, stack: contextlib.AsyncExitStack) -> RecordStore | None:
    """The project's database store when there is one, so `--session` spans invocations."""
    try:
        from agent.store import SqlRecordStore
    except ImportError:
        return None
    store = SqlRecordStore(
        settings.server.database_url, notebooks_dir=settings.server.notebooks_dir
    )
    await store.start(heartbeat=False)
    stack.push_async_callback(store.close)
    return store


def _agents(settings: Settings, out: Console) -> int:
    from agent.runtime import DEFAULT_AGENT

    agents = settings.agents.agents or {settings.agents.default_agent: DEFAULT_AGENT}
    for name, spec in agents.items():
        mark = " (default)" if name == settings.agents.default_agent else ""
        skills = spec.skills if spec.skills == "*" else ", ".join(spec.skills)
        out.print(f"[bold]{name}[/]{mark}: {spec.description}", highlight=False)
        out.print(f"  skills: {skills}; max_steps: {spec.max_steps}; planning: {spec.planning}")
        if spec.delegates:
            out.print(f"  delegates: {', '.join(spec.delegates)}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    err = Console(stderr=True)
    out = Console(soft_wrap=True)
    try:
        settings = load_settings()
    except ConfigError as exc:
        err.print(f"[red]configuration error:[/] {exc}")
        return EXIT_USAGE
    if args.command == "agents":
        return _agents(settings, out)
    if args.command == "batch":
        from agent.batch import run_batch

        return run_batch(args.tasks_file, args.out, parallel=args.parallel)
    from kernels import SandboxUnavailable

    try:
        record = asyncio.run(_run(args, settings, err))
    except AgentError as exc:
        err.print(f"[red]{exc.code}:[/] {exc.message}")
        return EXIT_USAGE
    except SandboxUnavailable as exc:
        err.print(f"[red]kernels unavailable:[/] {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.print("[yellow]cancelled[/]")
        return EXIT_INTERRUPTED
    if args.json:
        print(json.dumps(record.wire(), indent=2, ensure_ascii=False))
    elif record.status == "completed":
        print(answer_text(record.result))
    if args.quiet and record.error is not None:
        err.print(f"[red]{record.error.code}:[/] {record.error.message}")
    return EXIT_OK if record.status == "completed" else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
