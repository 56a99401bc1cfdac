"""Real runs for the notebook suites: programs executed in a plain ipykernel via jupyter_client.

The kernel gets skill functions that answer with values the test chooses (the host's side of a
call) and a `final_answer` that stops the cell; the outputs, errors and execution counts that land
in the ActionStep are what the kernel really produced. Used until a test needs the sandboxed
session kernels themselves.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.manager import KernelManager
from nbformat.v4 import output_from_msg

from agent.records import ActionStep, ExecutionRecord, FinalAnswerStep, TaskStep
from skills.records import SkillCall

__all__ = ["HOST_PRELUDE", "Program", "ProgramKernel", "record_of"]

# The in-kernel half: skill calls are logged with their arguments; answers come from _answers.
HOST_PRELUDE = r"""
import json as _json
_calls, _answers, _final = [], {}, []
class SkillError(Exception): pass
class _Final(BaseException): pass
def final_answer(value):
    _final.append(value); raise _Final()
def _skill(name):
    def call(*args, **kwargs):
        _calls.append({"name": name, "args": list(args), "kwargs": kwargs})
        ok, value = _answers[name].pop(0)
        if not ok: raise SkillError(value)
        return value
    return call
def _quiet(shell, etype, value, tb, tb_offset=None):
    if etype is not _Final: shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
get_ipython().set_custom_exc((_Final,), _quiet)
"""


@dataclass
class Program:
    code: str
    reasoning: str = ""
    # skill python name -> list of (ok, value) answers, in call order
    answers: dict[str, list[tuple[bool, Any]]] = field(default_factory=dict)


class ProgramKernel:
    """One plain ipykernel for a whole suite; each `run` is one agent step."""

    def __init__(self) -> None:
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel()
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self._exec(HOST_PRELUDE)

    def _exec(self, code: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        outputs: list[dict[str, Any]] = []

        def hook(msg: dict[str, Any]) -> None:
            if msg["msg_type"] in ("stream", "display_data", "execute_result", "error"):
                outputs.append(dict(output_from_msg(msg)))

        reply = self.kc.execute_interactive(code, output_hook=hook, timeout=60)
        return reply["content"], outputs

    def _value(self, expression: str) -> Any:
        reply = self.kc.execute_interactive(
            "", user_expressions={"v": f"_json.dumps({expression})"}, timeout=30
        )
        text = reply["content"]["user_expressions"]["v"]["data"]["text/plain"]
        return json.loads(ast.literal_eval(text))

    def run(self, program: Program, index: int) -> tuple[ActionStep, bool, Any]:
        """Run one program; returns the step, whether final_answer was called, and its value."""
        names = sorted(program.answers)
        setup = "".join(f"{n} = _skill({n!r})\n" for n in names)
        self._exec(
            f"{setup}_calls.clear(); _final.clear(); "
            f"_answers.update(_json.loads({json.dumps({n: program.answers[n] for n in names})!r}))"
        )
        content, outputs = self._exec(program.code)
        calls, final = self._value("_calls"), self._value("_final")
        answers = {n: list(v) for n, v in program.answers.items()}
        skill_calls = []
        for i, call in enumerate(calls):
            ok, value = answers[call["name"]].pop(0)
            skill_calls.append(
                SkillCall(
                    id=f"call_{index}_{i}",
                    skill=call["name"].replace("_", "-"),
                    args=call["args"],
                    kwargs=call["kwargs"],
                    ok=ok,
                    result=value if ok else None,
                    error=None if ok else value,
                    error_type=None if ok else "SkillError",
                )
            )
        error = None
        if content["status"] == "error" and content["ename"] != "_Final":
            error = {k: content[k] for k in ("ename", "evalue", "traceback")}
        step = ActionStep(
            index=index,
            model_text=f"{program.reasoning}\n\n```python\n{program.code}\n```",
            reasoning=program.reasoning,
            code=program.code,
            status="error" if error else "ok",
            outputs=outputs,
            error=error,
            skill_calls=skill_calls,
            execution_count=content.get("execution_count"),
        )
        return step, bool(final), final[0] if final else None

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def record_of(
    kernel: ProgramKernel, task: str, programs: list[Program], **fields: Any
) -> ExecutionRecord:
    """An ExecutionRecord of real steps, shaped as the agent runtime leaves it."""
    record = ExecutionRecord(session_id=fields.pop("session_id", "sess-test"), task=task, **fields)
    record.status = "running"
    record.steps.append(TaskStep(index=0, task=task))
    answer: Any = None
    done = False
    for i, program in enumerate(programs, start=1):
        step, done, answer = kernel.run(program, i)
        record.steps.append(step)
        record.skill_calls.extend(step.skill_calls)
    if done:
        record.steps.append(FinalAnswerStep(index=len(record.steps), answer=answer))
        record.result, record.status = answer, "completed"
    else:
        record.status = "failed"
    return record
