"""What the model sees after a program ran: its own output, the error, one line per skill call.

Everything is capped (head and tail kept). A skill's result never appears here: the program
holds it and the model sees only what the program printed — the point of PTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent.prompting import render, truncate
from kernels.results import RunResult
from skills.records import SkillCall

__all__ = ["Caps", "call_line", "calls_text", "observe"]

MAX_CALL_LINES = 12


@dataclass(frozen=True)
class Caps:
    observation_chars: int = 4000
    error_chars: int = 3000
    run_timeout_s: float = 60.0


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} kB"


def call_line(call: SkillCall) -> str:
    """`web_search('x', max_results=3) -> ok (list, 2.1 kB)`: arguments capped, no result."""
    args = [truncate(repr(a), 60) for a in call.args]
    args += [f"{k}={truncate(repr(v), 60)}" for k, v in call.kwargs.items()]
    head = f"{call.skill}({', '.join(args)})"
    if call.ok:
        kind = type(call.result).__name__ if call.result is not None else "None"
        return f"{head} -> ok ({kind}, {_size(call.result_size)})"
    return f"{head} -> {call.error_type or 'SkillError'}: {truncate(call.error or '', 200)}"


def calls_text(calls: Sequence[SkillCall]) -> str:
    if not calls:
        return ""
    lines = [call_line(c) for c in calls[:MAX_CALL_LINES]]
    if len(calls) > MAX_CALL_LINES:
        lines.append(f"(and {len(calls) - MAX_CALL_LINES} more calls)")
    return render("calls", lines="\n" + "\n".join(f"- {line}" for line in lines))


def _output(result: RunResult, limit: int) -> str:
    text = result.stdout
    if result.stderr.strip():
        text = f"{text}\n[stderr]\n{result.stderr}" if text else f"[stderr]\n{result.stderr}"
    return truncate(text.rstrip("\n"), limit) if text.strip() else "(nothing)"


def observe(result: RunResult, calls: Sequence[SkillCall], caps: Caps) -> str:
    """The next user message after a run that did not produce the answer."""
    summary = calls_text(calls)
    if result.status == "error" and result.error is not None:
        return render(
            "repair",
            ename=result.error.ename,
            evalue=truncate(result.error.evalue, 500),
            calls=summary,
            stdout=_output(result, caps.observation_chars // 2),
            traceback=truncate(
                "\n".join(result.error.traceback), caps.error_chars, tail_weight=0.8
            ),
        )
    if result.status in ("timeout", "interrupted"):
        return render(
            "timeout",
            seconds=f"{caps.run_timeout_s:g}",
            calls=summary,
            stdout=_output(result, caps.observation_chars),
        )
    if result.status == "died":
        reason = result.error.evalue if result.error is not None else "the process ended"
        return render(
            "died", reason=truncate(reason, 300), calls=summary, stdout=_output(result, 1000)
        )
    return render("no_final", calls=summary, stdout=_output(result, caps.observation_chars))
