"""Live progress of a run in the terminal (rich): plan text as it streams, code, skill calls,
outputs, errors and the answer. Subagents' lines are indented by depth."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax

from agent.records import Event

__all__ = ["ProgressPrinter"]


class ProgressPrinter:
    """An `on_event` listener that prints each event as it arrives."""

    def __init__(self, console: Console, *, stream_llm: bool = True) -> None:
        self.console = console
        self.stream_llm = stream_llm
        self._depth: dict[str, int] = {}
        self._streaming = False

    def __call__(self, event: Event) -> None:
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event, "  " * self._depth.get(event.execution_id, 0))

    def _end_stream(self) -> None:
        if self._streaming:
            self.console.print()
            self._streaming = False

    def _on_status(self, event: Event, pad: str) -> None:
        data = event.data
        if data.get("status") == "running" and "agent" in data:
            self._depth[event.execution_id] = int(data.get("depth") or 0)
            pad = "  " * self._depth[event.execution_id]
            self.console.print(f"{pad}[bold cyan]▶ {escape(str(data['agent']))}[/] running")

    def _on_llm_delta(self, event: Event, pad: str) -> None:
        if self.stream_llm:
            self.console.print(escape(str(event.data.get("text", ""))), end="", style="dim")
            self._streaming = True

    def _on_step(self, event: Event, pad: str) -> None:
        self._end_stream()
        step: dict[str, Any] = event.data.get("step") or {}
        kind = step.get("type")
        if kind == "planning":
            self.console.print(f"{pad}[bold]plan[/] ({step.get('durationMs', 0):.0f} ms)")
        elif kind == "action":
            self._action(step, pad)
        elif kind == "subagent":
            status = step.get("status")
            self.console.print(
                f"{pad}[magenta]⇢ delegate {escape(str(step.get('agent')))}[/]: "
                f"{escape(str(step.get('task'))[:100])} [{status}]"
            )
        elif kind == "final_answer":
            self.console.print(
                f"{pad}[bold green]✔ answer[/] {escape(str(step.get('answer'))[:500])}"
            )

    def _action(self, step: dict[str, Any], pad: str) -> None:
        status = step.get("status")
        if status == "running" and step.get("code"):
            self.console.print(f"{pad}[bold]step {step.get('index')}[/] program:")
            self.console.print(Syntax(step["code"], "python", theme="ansi_dark", padding=(0, 2)))
        elif status == "no_code":
            self.console.print(f"{pad}[yellow]step {step.get('index')}: the reply had no code[/]")
        elif status == "ok":
            self.console.print(f"{pad}[green]ran ok[/] ({step.get('runMs', 0):.0f} ms)")
        elif status in ("error", "timeout", "interrupted", "died"):
            error = step.get("error") or {}
            detail = f"{error.get('ename', '')}: {error.get('evalue', '')}" if error else ""
            self.console.print(f"{pad}[red]program {status}[/] {escape(detail[:300])}")

    def _on_output(self, event: Event, pad: str) -> None:
        self._end_stream()
        output = event.data.get("output") or {}
        if output.get("output_type") == "stream":
            for line in str(output.get("text", "")).splitlines():
                self.console.print(f"{pad}  │ {escape(line)}", highlight=False)

    def _on_skill_call(self, event: Event, pad: str) -> None:
        self._end_stream()
        call = event.data.get("call") or {}
        state = (
            "[green]ok[/]" if call.get("ok") else f"[red]{escape(str(call.get('error')))[:200]}[/]"
        )
        self.console.print(
            f"{pad}  ↳ {escape(str(call.get('skill')))} {state} "
            f"({call.get('resultSize', 0)} B, {call.get('durationMs', 0):.0f} ms)"
        )

    def _on_done(self, event: Event, pad: str) -> None:
        self._end_stream()
        error = event.data.get("error")
        if error:
            self.console.print(
                f"{pad}[bold red]✘ {escape(error['code'])}[/]: {escape(error['message'])}"
            )
