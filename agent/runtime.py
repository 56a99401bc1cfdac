"""AgentRuntime: config, LLM providers, session kernels and skills wired into runnable tasks.

`execute(record)` runs one task to a terminal status: the session's lock (its tasks run in
order), the kernel (rehydrated or told as lost when a fresh one replaces earlier state), the
prompt, the loop, the notebook and store writes once per step, live events throughout.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import TracebackType
from typing import Any

from agent.bridge import Bridge
from agent.checkpoints import Checkpoints
from agent.config import AgentSpec, Settings
from agent.errors import AgentError, error_info
from agent.events import EventListener, Events
from agent.llm import LLMProviders
from agent.llm.base import LLMError, LLMProvider, Message
from agent.loop import AgentLoop, StepBudget, usage_of
from agent.memory_store import MemoryRecordStore, RecordStore
from agent.notebook import RunNotebook
from agent.observation import Caps
from agent.prompting import render, system_prompt, task_message
from agent.records import ErrorInfo, ExecutionRecord, ExecutionStatus, TaskStep, new_id, now
from agent.sessions import Session, Sessions, history_text
from agent.subagents import Delegation
from kernels import SessionKernel, SessionKernels
from kernels.results import KernelsBusy, SkillStub, VariableInfo
from skills import SkillRegistry
from skills.records import LLMComplete, SkillContext, SkillInfo, UnknownSkill

__all__ = ["DEFAULT_AGENT", "AgentRuntime"]

log = logging.getLogger(__name__)

DEFAULT_AGENT = AgentSpec(description="General agent: solves the task with the skills it has.")
MAX_FILES_LISTED = 30
BUILTINS = frozenset({"final_answer", "delegate", "parallel", "describe_skills", "SkillError"})


class AgentRuntime:
    def __init__(self, settings: Settings, *, store: RecordStore | None = None) -> None:
        self.settings = settings
        self.llm = LLMProviders(settings.llm)
        self.kernels = SessionKernels(settings.kernels)
        self.skills = SkillRegistry(settings.skills)
        self.store: RecordStore = store if store is not None else MemoryRecordStore()
        self.sessions = Sessions(self.store.session_records)
        self.checkpoints = Checkpoints(self._write, settings.server.checkpoint_delay_s)
        self._started = False

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self.skills.start()
        for name, spec in self.agents().items():
            if spec.skills != "*":
                try:
                    self.skills.select(spec.skills)
                except UnknownSkill as exc:
                    await self.skills.close()
                    raise AgentError(
                        "unknown_skill", f"config/agents.yaml: agent {name!r}: {exc}"
                    ) from None
            missing = [d for d in spec.delegates if d not in self.agents()]
            if missing:
                await self.skills.close()
                raise AgentError(
                    "unknown_agent",
                    f"config/agents.yaml: agent {name!r} delegates to unknown {missing}",
                )
        await self.kernels.start()
        self._started = True

    async def shutdown(self) -> None:
        self._started = False
        try:
            await self.checkpoints.flush()
            await self.kernels.shutdown()
        finally:
            await self.skills.close()
            await self.llm.aclose()

    async def __aenter__(self) -> AgentRuntime:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    # --- requests ----------------------------------------------------------------------------

    def agents(self) -> dict[str, AgentSpec]:
        configured = self.settings.agents.agents
        return (
            dict(configured) if configured else {self.settings.agents.default_agent: DEFAULT_AGENT}
        )

    def _spec(self, agent: str | None) -> tuple[str, AgentSpec]:
        name = agent or self.settings.agents.default_agent
        spec = self.agents().get(name)
        if spec is None:
            known = ", ".join(sorted(self.agents()))
            raise AgentError("unknown_agent", f"unknown agent {name!r}; known agents: {known}")
        return name, spec

    def _select(self, spec: AgentSpec, requested: list[str] | None) -> list[SkillInfo]:
        try:
            return self.skills.select(spec.skills, requested)
        except UnknownSkill as exc:
            raise AgentError("unknown_skill", str(exc)) from None

    def check_request(self, *, agent: str | None, available_skills: list[str] | None) -> None:
        """Raise AgentError (unknown_agent, unknown_skill) before anything is queued or run."""
        _, spec = self._spec(agent)
        self._select(spec, available_skills)

    def new_record(
        self, task: str, *, session_id: str | None = None, agent: str | None = None
    ) -> ExecutionRecord:
        if not isinstance(task, str) or not task.strip():
            raise AgentError("bad_request", "the task is empty; say what the agent should do")
        name, _ = self._spec(agent)
        return ExecutionRecord(session_id=session_id or new_id("ses"), task=task, agent=name)

    async def execute(
        self,
        record: ExecutionRecord,
        *,
        available_skills: list[str] | None = None,
        provider: str | None = None,
        model: str | None = None,
        on_event: EventListener | None = None,
    ) -> ExecutionRecord:
        """Run to a terminal status. Cancelling the awaiting task ends the record `cancelled`."""
        events = Events(record.execution_id, on_event)
        session = self.sessions.get(record.session_id)
        budget = StepBudget(self.settings.agents.max_total_steps)
        async with session.lock:
            await self.sessions.load(session, exclude=record.execution_id)
            await self._run_cancellable(
                record,
                "the task was cancelled",
                events=events,
                budget=budget,
                session=session,
                available_skills=available_skills,
                provider=provider,
                model=model,
            )
        return record

    async def _run_cancellable(
        self, record: ExecutionRecord, cancelled: str, **options: Any
    ) -> None:
        """`_run`, ending the record `cancelled` (with `cancelled` as its message) when the
        awaiting task is cancelled; the finish is shielded so the record always lands."""
        try:
            await self._run(record, **options)
        except asyncio.CancelledError:
            finish = self._finish(
                record,
                options["events"],
                options["session"],
                error=ErrorInfo(code="cancelled", message=cancelled),
                status="cancelled",
            )
            await asyncio.shield(finish)
            raise

    async def variables(self, session_id: str) -> list[VariableInfo]:
        """The session kernel's variables; [] when no kernel of the session ran yet."""
        if session_id not in self.sessions or not self.sessions.get(session_id).kernel_used:
            return []
        kernel = await self.kernels.open(session_id)
        return [v for v in await kernel.variables() if v.name not in BUILTINS]

    async def close_session(self, session_id: str) -> None:
        await self.kernels.close(session_id)
        self.sessions.drop(session_id)

    def readiness(self) -> dict[str, dict[str, Any]]:
        llm: dict[str, Any]
        try:
            provider = self.llm.get()
            llm = {"ok": True, "reason": None, "provider": provider.name, "model": provider.model}
        except LLMError as exc:
            llm = {"ok": False, "reason": exc.message}
        llm["providers"] = self.llm.status()
        kernels: dict[str, Any] = {
            "ok": self._started,
            "reason": None if self._started else "not started",
        }
        if self._started:
            kernels.update(self.kernels.stats())
            kernels["isolation"] = self.kernels.isolation.mode
        catalog = self.skills.catalog()
        skills = {
            "ok": self._started,
            "reason": None if self._started else "not started",
            "skills": len(catalog.skills),
            "errors": [e.reason for e in catalog.errors],
        }
        return {"llm": llm, "kernels": kernels, "skills": skills}

    # --- one run -----------------------------------------------------------------------------

    async def _run(
        self,
        record: ExecutionRecord,
        *,
        events: Events,
        budget: StepBudget,
        session: Session | None,
        available_skills: list[str] | None,
        provider: str | None,
        model: str | None,
        workspace: Path | None = None,
    ) -> None:
        """Run `record` (top-level with its session, or a subagent with session None)."""
        loop: AgentLoop | None = None
        status: ExecutionStatus = "completed"
        error: ErrorInfo | None = None
        try:
            loop = await self._build_loop(
                record,
                events=events,
                budget=budget,
                session=session,
                available_skills=available_skills,
                provider=provider,
                model=model,
                workspace=workspace,
            )
            record.result = await loop.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not isinstance(exc, AgentError | LLMError | KernelsBusy):
                log.exception("task %s failed unexpectedly", record.execution_id)
            status, error = "failed", error_info(exc)
        finally:
            if session is not None and loop is not None and loop.state_lost:
                session.state_note = render(
                    "state_lost", reason="a program of an earlier turn killed it"
                )
        await self._finish(record, events, session, error=error, status=status)

    async def _build_loop(
        self,
        record: ExecutionRecord,
        *,
        events: Events,
        budget: StepBudget,
        session: Session | None,
        available_skills: list[str] | None,
        provider: str | None,
        model: str | None,
        workspace: Path | None,
    ) -> AgentLoop:
        """Everything one run needs: provider, kernel with stubs, prompt, bridge, delegation."""
        name, spec = self._spec(record.agent)
        allowed = self._select(spec, available_skills)
        llm = self.llm.get(provider or spec.llm, model=model or spec.model)
        record.provider, record.model = llm.name, llm.model
        record.status, record.started_at = "running", now()
        root = workspace or self.kernels.workspace(record.session_id)
        files = _files(root)
        record.steps.append(TaskStep(index=len(record.steps), task=record.task, files=files))
        await events.emit("status", {"status": "running", "agent": name, "depth": record.depth})
        await self.checkpoints.soon(record)
        kernel = await self.kernels.open(record.session_id)
        record.isolation = self.kernels.isolation.mode
        note = await self._prepare(kernel, session, allowed)
        variables = [v for v in await kernel.variables() if v.name not in BUILTINS]
        delegation = None
        if spec.delegates and record.depth < self.settings.agents.max_depth:

            async def run_child(child: ExecutionRecord) -> ExecutionRecord:
                return await self._run_child(child, events, budget, llm.name, model, root)

            delegation = Delegation(
                parent=record,
                spec=spec,
                agents=self.agents(),
                max_depth=self.settings.agents.max_depth,
                events=events,
                run_child=run_child,
            )
        context = SkillContext(
            session_id=record.session_id, workspace=root, llm=_skill_llm(llm, record)
        )
        bridge = Bridge(
            skills=self.skills,
            allowed=allowed,
            context=context,
            record=record,
            events=events,
            delegate=delegation,
        )
        delegates = {d: self.agents()[d].description for d in spec.delegates} if delegation else {}
        history = ""
        if session is not None:
            history = history_text(session.turns, self.settings.agents.history_tokens)
        return AgentLoop(
            record=record,
            spec=spec,
            provider=llm,
            kernel=kernel,
            bridge=bridge,
            events=events,
            caps=Caps(
                observation_chars=self.settings.agents.observation_chars,
                error_chars=self.settings.agents.error_chars,
                run_timeout_s=spec.run_timeout_s or self.settings.kernels.run_timeout_s,
            ),
            budget=budget,
            system=system_prompt(
                agent_name=name,
                description=spec.description,
                instructions=spec.instructions,
                skills_section=self.skills.prompt_section(allowed),
                delegates=delegates,
                variables=variables,
                state_note=note,
            ),
            first_message=task_message(record.task, history=history, files=files),
            checkpoint=lambda: self.checkpoints.soon(record),
            run_timeout_s=spec.run_timeout_s,
        )

    async def _run_child(
        self,
        child: ExecutionRecord,
        parent_events: Events,
        budget: StepBudget,
        provider: str | None,
        model: str | None,
        workspace: Path,
    ) -> ExecutionRecord:
        """A subagent: its own kernel (closed after), the root session's workspace for files."""
        events = Events(child.execution_id, parent_events.listener)
        spec = self.agents()[child.agent]
        if spec.llm:  # the child's own provider; else it inherits the parent's
            provider, model = spec.llm, spec.model
        else:
            model = spec.model or model
        try:
            await self._run_cancellable(
                child,
                "the parent task was cancelled",
                events=events,
                budget=budget,
                session=None,
                available_skills=None,
                provider=provider,
                model=model,
                workspace=workspace,
            )
        finally:
            await asyncio.shield(self.kernels.close(child.session_id))
        return child

    async def _prepare(
        self,
        kernel: SessionKernel,
        session: Session | None,
        allowed: list[SkillInfo],
    ) -> str | None:
        """Install the agent's stubs; bring back or report earlier state a fresh kernel lacks."""
        stubs = [
            SkillStub(name=i.python_name, signature=i.signature, doc=i.docstring) for i in allowed
        ]
        if session is None:
            await kernel.install_stubs(stubs)
            return None
        note, session.state_note = session.state_note, None
        fresh = kernel.run_count == 0
        had_state = session.kernel_used or bool(session.notebooks)
        session.kernel_used = True
        if fresh and had_state:
            reason = "it was evicted, crashed or the server restarted"
            note = render("state_lost", reason=reason)
            if self.settings.server.rehydrate and session.notebooks:
                await kernel.install_stubs(stubs)
                error = await self._rehydrate(kernel, session)
                note = None if error is None else render("state_lost", reason=f"{reason}; {error}")
        await kernel.install_stubs(stubs)
        return note

    async def _rehydrate(self, kernel: SessionKernel, session: Session) -> str | None:
        """None when the earlier runs were replayed into the kernel, else why not."""
        try:
            from agent.rehydrate import rehydrate
        except ImportError:
            return "replaying earlier runs is not available"
        paths = await asyncio.to_thread(_existing, session.notebooks)
        if not paths:
            return "the earlier runs' notebooks are gone"
        try:
            report = await rehydrate(
                kernel, paths, timeout=self.settings.server.rehydrate_timeout_s
            )
        except Exception as exc:
            log.warning("rehydrating session %s failed: %s", session.id, exc)
            return f"replaying earlier runs failed: {exc}"
        return None if report.ok else f"replaying earlier runs failed: {report.error}"

    async def _finish(
        self,
        record: ExecutionRecord,
        events: Events,
        session: Session | None,
        *,
        error: ErrorInfo | None,
        status: ExecutionStatus,
    ) -> None:
        if record.done:
            return
        record.error = error
        record.status = status
        record.finished_at = now()
        await self.checkpoints.now(record)
        if session is not None and record.depth == 0:
            session.add(record)
        await events.drain()
        data: dict[str, Any] = {"status": record.status, "result": record.result}
        data["error"] = error.model_dump() if error else None
        await events.emit("status", {"status": record.status, "depth": record.depth})
        if record.depth == 0:  # one `done` per listener: a subagent's end is its parent's step
            await events.emit("done", data)

    async def _write(self, record: ExecutionRecord) -> None:
        """The notebook and the store: what `checkpoints` does, once per batch of steps."""
        await self._write_notebook(record)
        await self.store.save(record)

    async def _write_notebook(self, record: ExecutionRecord) -> None:
        """Built here from the record as it stands; validated and written in a thread, so other
        sessions' runs and streams do not wait on the disk. Checkpoints of one record are awaited
        in turn, so an older version never lands after a newer one."""
        try:
            path = RunNotebook.path_for(self.settings.server.notebooks_dir, record)
            notebook = RunNotebook(path)
            await asyncio.to_thread(notebook.save, notebook.build(record))
            record.notebook = str(path)
        except Exception:
            log.exception("writing the notebook of %s failed", record.execution_id)


def _existing(paths: list[str]) -> list[Path]:
    return [Path(p) for p in paths if Path(p).exists()]


def _files(workspace: Path) -> list[str]:
    try:
        names = sorted(
            p.name for p in workspace.iterdir() if p.is_file() and not p.name.startswith(".")
        )
    except OSError:
        return []
    if len(names) > MAX_FILES_LISTED:
        return [*names[:MAX_FILES_LISTED], f"(+{len(names) - MAX_FILES_LISTED} more)"]
    return names


def _skill_llm(provider: LLMProvider, record: ExecutionRecord) -> LLMComplete | None:
    """`summarize` may use the agent's model; a scripted provider is not a model, so None."""
    if not provider.is_model:
        return None

    async def complete(prompt: str, max_tokens: int) -> str:
        completion = await provider.complete([Message("user", prompt)], max_tokens=max_tokens)
        record.usage.add(usage_of(completion))
        return completion.text

    return complete
