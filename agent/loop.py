"""The execute–observe–repair loop of one agent run: ask, extract, run in the kernel, observe.

Each reply is one step (a reply without code too). The loop ends with `final_answer(...)`, with
a program's printed output (the pinned protocol), or with `max_steps_exceeded`. Steps are added
to the record as they happen; `checkpoint` persists the record and notebook after each one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.bridge import Bridge
from agent.config import AgentSpec
from agent.errors import AgentError
from agent.events import Events
from agent.extract import extract_code
from agent.llm.base import Completion, LLMProvider, Message
from agent.observation import Caps, observe
from agent.prompting import render, truncate
from agent.records import ActionStep, ExecutionRecord, FinalAnswerStep, PlanningStep, Usage, now
from kernels.results import KernelError, RunResult

if TYPE_CHECKING:
    from kernels import SessionKernel

__all__ = ["AgentLoop", "StepBudget", "usage_of"]


class StepBudget:
    """Program attempts left across a whole task tree (master plus subagents)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self) -> None:
        if self.used >= self.limit:
            raise AgentError(
                "step_budget_exceeded",
                f"the task used all {self.limit} steps allowed across its agents "
                "(agents.max_total_steps)",
            )
        self.used += 1


def usage_of(completion: Completion) -> Usage:
    return Usage(
        input_tokens=completion.usage.input_tokens,
        output_tokens=completion.usage.output_tokens,
        llm_calls=1,
        latency_ms=completion.latency_ms,
    )


def _error_dict(error: KernelError | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {"ename": error.ename, "evalue": error.evalue, "traceback": list(error.traceback)}


def _problem(result: RunResult) -> str:
    """One line for the max_steps message: what went wrong last."""
    if result.error is not None:
        return truncate(f"{result.error.ename}: {result.error.evalue}", 300)
    if result.status != "ok":
        return f"the program ended {result.status}"
    return "the program did not call final_answer"


@dataclass
class AgentLoop:
    record: ExecutionRecord
    spec: AgentSpec
    provider: LLMProvider
    kernel: SessionKernel
    bridge: Bridge
    events: Events
    caps: Caps
    budget: StepBudget
    system: str
    first_message: str
    checkpoint: Callable[[], Awaitable[None]]
    run_timeout_s: float | None = None
    state_lost: bool = False  # set when a program killed or lost the kernel's state

    async def run(self) -> Any:
        """Steps until an answer; raises AgentError (or LLMError) when there is none."""
        messages = [Message("user", self.first_message)]
        if self.spec.planning == "separate":
            messages = await self._plan()
        last_problem = "no program ran"
        for _ in range(self.spec.max_steps):
            self.budget.take()
            step = ActionStep(index=len(self.record.steps))
            completion = await self._ask(messages, step.index)
            step.model_text = completion.text
            step.llm_ms = completion.latency_ms
            step.usage = usage_of(completion)
            self.record.steps.append(step)
            messages.append(Message("assistant", completion.text or "(empty reply)"))
            extracted = extract_code(completion.text)
            if extracted is None:
                step.status = "no_code"
                step.reasoning = completion.text.strip()
                await self._close_step(step)
                messages.append(Message("user", render("no_code")))
                last_problem = "the reply had no code"
                continue
            step.code = extracted.code
            step.reasoning = extracted.reasoning
            await self._emit_step(step)
            result = await self._execute(step)
            await self._close_step(step)
            if result.has_final_answer:
                return await self._answer(result.final_answer)
            if result.ok and self.spec.output_is_answer and result.stdout.strip():
                return await self._answer(result.stdout.strip())
            messages.append(Message("user", observe(result, step.skill_calls, self.caps)))
            last_problem = _problem(result)
        raise AgentError(
            "max_steps_exceeded",
            f'Agent "{self.record.agent}" stopped after {self.spec.max_steps} steps without '
            f"final_answer; last problem: {last_problem}",
        )

    async def _plan(self) -> list[Message]:
        """`planning: separate`: one call for the plan, then the loop asks for its code."""
        ask = Message("user", f"{self.first_message}\n\n{render('plan')}")
        step = PlanningStep(index=len(self.record.steps), plan="")
        completion = await self._ask([ask], step.index)
        step.plan = completion.text.strip()
        step.usage = usage_of(completion)
        self.record.steps.append(step)
        await self._close_step(step)
        return [
            ask,
            Message("assistant", completion.text or "(empty plan)"),
            Message("user", render("code_after_plan")),
        ]

    async def _ask(self, messages: list[Message], index: int) -> Completion:
        on_delta: Callable[[str], None] | None = None
        if self.events.live:

            def on_delta(text: str) -> None:
                self.events.emit_nowait("llm_delta", {"step": index, "text": text})

        completion = await self.provider.complete(
            list(messages), system=self.system, on_delta=on_delta
        )
        await self.events.drain()
        self.record.usage.add(usage_of(completion))
        return completion

    async def _execute(self, step: ActionStep) -> RunResult:
        assert step.code is not None
        self.bridge.step = step

        async def on_output(output: dict[str, Any]) -> None:
            await self.events.emit("output", {"step": step.index, "output": output})

        try:
            result = await self.kernel.run(
                step.code, timeout=self.run_timeout_s, on_call=self.bridge, on_output=on_output
            )
        except asyncio.CancelledError:
            step.status = "interrupted"
            with contextlib.suppress(Exception):  # the kernel may already be gone
                await asyncio.wait_for(asyncio.shield(self.kernel.interrupt()), 10)
            raise
        except Exception as exc:
            step.status = "died"
            raise AgentError("kernel_died", f"the session's kernel failed: {exc}") from exc
        finally:
            self.bridge.step = None
        step.status = result.status
        step.stdout = result.stdout
        step.stderr = result.stderr
        step.outputs = list(result.outputs)
        step.error = _error_dict(result.error)
        step.execution_count = result.execution_count
        step.state_lost = result.state_lost or result.status == "died"
        step.run_ms = result.duration_ms
        self.state_lost = self.state_lost or step.state_lost
        return result

    async def _answer(self, value: Any) -> Any:
        step = FinalAnswerStep(index=len(self.record.steps), answer=value)
        self.record.steps.append(step)
        await self._emit_step(step)
        return value

    async def _emit_step(self, step: ActionStep | PlanningStep | FinalAnswerStep) -> None:
        await self.events.emit("step", {"step": step.model_dump(mode="json", by_alias=True)})

    async def _close_step(self, step: ActionStep | PlanningStep) -> None:
        step.duration_ms = (now() - step.started_at).total_seconds() * 1000
        await self._emit_step(step)
        await self.checkpoint()
