"""The replay runtime a run notebook's setup cell loads: the program's functions, without the agent.

`install(globals(), skill_mode=..., recording=...)` defines the functions the agent's program had
(each skill by its Python name, `final_answer`, `delegate`, `parallel`, `describe_skills`,
`SkillError`). With `skill_mode="replay"` every call is answered from the recording the notebook
carries, in order; a call the recording does not have stops the cell with `ReplayMismatch` naming
the expected and the actual call. With `skill_mode="live"` the real skills run in this process from
the project's config (see `agent.replay_live`). IPython hooks keyed on each cell's source turn a
*recorded* error into a stderr note (papermill fails on any error output) while an error the
recording did not have still fails the replay.

The recording format (`Recording`, `CallQueue`) is shared with `agent.rehydrate`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "CHECK_SOURCE",
    "RECORDING_VERSION",
    "CallQueue",
    "CellStatus",
    "RecordedCall",
    "RecordedCell",
    "Recording",
    "ReplayError",
    "ReplayMismatch",
    "ReplayRuntime",
    "SkillError",
    "cell_key",
    "describe_call",
    "install",
    "normalise",
    "python_name",
]

RECORDING_VERSION = 1
CHECK_SOURCE = "_agent_replay.finish()"  # the run notebook's last code cell
SkillMode = Literal["replay", "live"]
CellStatus = Literal["ok", "error", "skip"]


def cell_key(source: str) -> str:
    """The identity of a program cell: a hash of its source (what IPython sees as raw_cell)."""
    return hashlib.sha256(source.strip().encode("utf-8")).hexdigest()[:24]


def python_name(skill: str) -> str:
    """`web-search` -> `web_search`: the name the program calls a skill by."""
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in skill)


def normalise(value: Any) -> tuple[Any, bool]:
    """(JSON form, True) for a JSON value; (repr, False) otherwise, as the kernels do for answers."""
    try:
        return json.loads(json.dumps(value, allow_nan=False)), True
    except (TypeError, ValueError):
        return repr(value), False


def describe_call(name: str, args: list[Any], kwargs: dict[str, Any]) -> str:
    """`web_search('x', max_results=3)`, capped so an error message stays readable."""
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    text = f"{name}({', '.join(parts)})"
    return text if len(text) <= 300 else text[:280] + f"… ({len(text) - 280} chars cut)"


class SkillError(Exception):
    """A skill failed; raised in the program exactly as the agent's kernel raises it."""

    def __init__(self, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type


class ReplayError(Exception):
    """The replay did not reproduce the recording (answer differs, calls left over)."""


class ReplayMismatch(BaseException):
    """A call differs from the recording. BaseException: a program's `except Exception` keeps it."""


class _FinalAnswer(BaseException):
    """Raised by final_answer to stop the rest of the cell, as in the agent's kernel."""

    def __init__(self, value: Any) -> None:
        super().__init__("final_answer")
        self.value = value


@dataclass
class RecordedCall:
    name: str  # Python name the program called
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    ok: bool = True
    result: Any = None
    result_is_json: bool = True  # False: `result` is the repr of a value JSON cannot hold
    error: str | None = None
    error_type: str | None = None

    def matches(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> bool:
        return (
            python_name(self.name) == python_name(name)
            and normalise(list(args))[0] == normalise(self.args)[0]
            and normalise(dict(kwargs))[0] == normalise(self.kwargs)[0]
        )

    def describe(self) -> str:
        return describe_call(self.name, self.args, self.kwargs)


@dataclass
class RecordedCell:
    key: str
    status: CellStatus  # skip: the run timed out, was interrupted or the kernel died
    ename: str | None = None
    evalue: str | None = None
    calls: list[RecordedCall] = field(default_factory=list)


@dataclass
class Recording:
    execution_id: str
    session_id: str
    agent: str = "master"
    status: str = "completed"
    skills: list[str] = field(default_factory=list)  # Python names the program had
    cells: list[RecordedCell] = field(default_factory=list)
    answer: Any = None
    answer_from_final: bool = False  # the answer came from final_answer (not printed output)
    version: int = RECORDING_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Recording:
        data = json.loads(text)
        if data.get("version") != RECORDING_VERSION:
            raise ReplayError(f"recording version {data.get('version')!r} is not supported")
        cells = [
            RecordedCell(**{**c, "calls": [RecordedCall(**k) for k in c["calls"]]})
            for c in data.pop("cells")
        ]
        return cls(**data, cells=cells)


class CallQueue:
    """One cell's recorded calls, answered in order; a concurrent batch may arrive reordered."""

    def __init__(self, calls: list[RecordedCall]) -> None:
        self._calls = list(calls)
        self._used = [False] * len(calls)

    def take(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> RecordedCall:
        pending = [i for i, used in enumerate(self._used) if not used]
        for i in pending:
            if self._calls[i].matches(name, args, kwargs):
                self._used[i] = True
                return self._calls[i]
        actual = describe_call(name, args, kwargs)
        if not pending:
            raise ReplayMismatch(
                f"replay mismatch: the program called {actual}, the recording has no more calls "
                "for this cell"
            )
        expected = self._calls[pending[0]].describe()
        raise ReplayMismatch(
            f"replay mismatch: expected {expected} (call {pending[0] + 1} of this cell), "
            f"the program called {actual}"
        )

    def remaining(self) -> list[RecordedCall]:
        return [c for c, used in zip(self._calls, self._used, strict=True) if not used]


_CHECK_KEY = cell_key(CHECK_SOURCE)
_RUNTIME_NAMES = ("final_answer", "delegate", "parallel", "describe_skills")


class ReplayRuntime:
    """The functions of a run, answered from its recording (or live), and the IPython hooks."""

    def __init__(self, recording: Recording, skill_mode: SkillMode = "replay") -> None:
        if skill_mode not in ("replay", "live"):
            raise ValueError(f"skill_mode must be 'replay' or 'live', got {skill_mode!r}")
        self.recording = recording
        self.skill_mode: SkillMode = skill_mode
        self.final_answer: Any = None
        self.has_final_answer = False
        self._position = 0  # next program cell of the recording
        self._cell: RecordedCell | None = None
        self._queue: CallQueue | None = None
        self._live: Any = None
        self._expected: BaseException | None = None
        self._failed_at: int | None = None  # program cell where the replay diverged

    # --- the program's functions --------------------------------------------------------------

    def call(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if self.skill_mode == "live":
            return self._live_runner().call(name, args, kwargs)
        if self._queue is None:
            raise ReplayMismatch(
                f"replay mismatch: {describe_call(name, args, kwargs)} was called in a cell the "
                "recording does not have (skill_mode 'replay' answers only the run's own cells)"
            )
        recorded = self._queue.take(name, args, kwargs)
        if not recorded.result_is_json:
            print(
                f"[replay] {recorded.describe()}: the recorded value is its repr", file=sys.stderr
            )
        if not recorded.ok:
            raise SkillError(recorded.error or f"{recorded.name} failed", recorded.error_type)
        return recorded.result

    def namespace(self) -> dict[str, Any]:
        """Everything the setup cell puts into the notebook's globals."""
        names = dict.fromkeys([*self.recording.skills, *self._recorded_names()])
        ns: dict[str, Any] = {
            name: self._skill_function(name) for name in names if name not in _RUNTIME_NAMES
        }

        def final_answer(value: Any) -> None:
            """Hand back the answer; the rest of the cell does not run."""
            raise _FinalAnswer(value)

        def delegate(agent: str, task: str) -> Any:
            """Hand a task to a subagent; its answer comes back."""
            return self.call("delegate", [agent, task], {})

        def describe_skills(*names: str) -> Any:
            """Full signatures and docs of the named skills."""
            return self.call("describe_skills", list(names), {})

        def parallel(*items: Any) -> list[Any]:
            """Run several delegations or skill calls; each item is (function, *args)."""
            return [_call_item(item) for item in items]

        ns.update(
            final_answer=final_answer,
            delegate=delegate,
            describe_skills=describe_skills,
            parallel=parallel,
            SkillError=SkillError,
        )
        return ns

    def _skill_function(self, name: str) -> Any:
        def skill(*args: Any, **kwargs: Any) -> Any:
            return self.call(name, list(args), kwargs)

        skill.__name__ = skill.__qualname__ = name
        skill.__doc__ = f"The `{name}` skill ({self.skill_mode} mode)."
        return skill

    def _recorded_names(self) -> list[str]:
        return [python_name(c.name) for cell in self.recording.cells for c in cell.calls]

    def _live_runner(self) -> Any:
        if self._live is None:
            from agent.replay_live import LiveSkills

            self._live = LiveSkills(self.recording.session_id)
        return self._live

    # --- IPython hooks ------------------------------------------------------------------------

    def enter_cell(self, source: str) -> None:
        """pre_run_cell: find this cell in the recording (a re-run cell replays its calls again).

        A source the recording does not know is an edited program: it stands for the next
        recorded cell, so its calls are checked against that cell's.
        """
        key = cell_key(source)
        cells = self.recording.cells
        ahead = [i for i in range(self._position, len(cells)) if cells[i].key == key]
        behind = [i for i in range(self._position) if cells[i].key == key]
        self._cell = None
        if key == _CHECK_KEY:
            pass
        elif ahead:
            self._position = ahead[0] + 1
            self._cell = cells[ahead[0]]
        elif behind:
            self._cell = cells[behind[-1]]
        elif self._position < len(cells):
            self._cell = cells[self._position]
            self._position += 1
        self._queue = CallQueue(self._cell.calls) if self._cell else None

    def skip_note(self, source: str) -> str | None:
        """Why a cell must not run in replay, or None: the recorded run never finished it
        (timeout, interrupt, kernel died), or the replay already diverged before it."""
        key = cell_key(source)
        cells = self.recording.cells
        if any(c.key == key and c.status == "skip" for c in cells):
            return "the recorded run never finished this cell; skipped in replay"
        if self._failed_at is None:
            return None
        later = [i for i, c in enumerate(cells) if c.key == key and i > self._failed_at]
        if key == _CHECK_KEY or later:
            return f"skipped: the replay diverged at program cell {self._failed_at + 1} (see above)"
        return None

    def _index(self) -> int | None:
        return None if self._cell is None else self.recording.cells.index(self._cell)

    def handle_exception(self, exc: BaseException) -> bool:
        """True when the exception is expected (final_answer, a recorded error): no error output."""
        self._expected = None
        if isinstance(exc, _FinalAnswer):
            self.final_answer, self.has_final_answer = exc.value, True
            self._expected = exc
            return True
        cell = self._cell
        if cell is not None and (isinstance(exc, ReplayMismatch) or self.skill_mode == "live"):
            self._failed_at = self._index()
            return False
        if cell is None:
            return False
        if cell.status == "error" and type(exc).__name__ == cell.ename:
            print(
                f"[replay] this cell failed in the recorded run too ({cell.ename}: {cell.evalue});"
                " the agent went on from here.",
                file=sys.stderr,
            )
            self._expected = exc
            return True
        self._failed_at = self._index()
        return False

    def was_expected(self, exc: BaseException) -> bool:
        return exc is self._expected

    def leave_cell(self, failed: bool) -> ReplayMismatch | None:
        """post_run_cell: a cell that made fewer calls than recorded did not replay the run."""
        index, queue = self._index(), self._queue
        self._queue = None
        if failed or queue is None or self.skill_mode != "replay":
            return None
        left = queue.remaining()
        if left:
            self._failed_at = index
            return ReplayMismatch(
                f"replay mismatch: the cell ended with {len(left)} recorded call(s) not made; "
                f"next expected {left[0].describe()}"
            )
        if index is not None and index == self._failed_at:
            self._failed_at = None  # the diverged cell, re-run, now replays: carry on
        return None

    # --- the last cell --------------------------------------------------------------------------

    def finish(self) -> Any:
        """Show the answer; in replay mode fail unless it is the recorded one."""
        rec = self.recording
        answer = self.final_answer if self.has_final_answer else rec.answer
        if self.skill_mode == "replay":
            if self.has_final_answer and normalise(self.final_answer)[0] != rec.answer:
                raise ReplayError(
                    f"the replay answered {self.final_answer!r}, the recorded run {rec.answer!r}"
                )
            if not self.has_final_answer and rec.answer_from_final:
                raise ReplayError("the recorded run called final_answer, the replay never did")
            print(f"[replay] answer reproduced (run {rec.execution_id}, status {rec.status})")
        elif normalise(answer)[0] != rec.answer:
            print(f"[live] the answer differs from the recorded run's: {rec.answer!r}")
        return answer


def _call_item(item: Any) -> Any:
    if callable(item):
        return item()
    if isinstance(item, tuple | list) and item and callable(item[0]):
        return item[0](*item[1:])
    raise TypeError(f"parallel() takes callables or (function, *args) tuples, got {item!r}")


def install(
    namespace: dict[str, Any], *, skill_mode: str = "replay", recording: str
) -> ReplayRuntime:
    """Load the recording, define the program's functions in `namespace`, hook into IPython."""
    mode = str(skill_mode).strip().lower()
    if mode not in ("live", "replay"):
        raise ValueError(f"skill_mode must be 'replay' or 'live', got {skill_mode!r}")
    runtime = ReplayRuntime(Recording.from_json(recording), "live" if mode == "live" else "replay")
    namespace.update(runtime.namespace())
    _hook(runtime)
    return runtime


def _hook(runtime: ReplayRuntime) -> None:
    """Wire the runtime into the running IPython shell (the notebook's kernel)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise ReplayError("the replay runtime needs an IPython kernel (Jupyter, papermill)")

    def skip_unfinished(lines: list[str]) -> list[str]:
        # a cell the recorded run never finished (endless loop, kernel died) must not hang replay
        note = runtime.skip_note("".join(lines))
        if note is not None:
            return [f"import sys as _s; print({'[replay] ' + note!r}, file=_s.stderr)\n"]
        return lines

    def pre_run_cell(info: Any) -> None:
        runtime.enter_cell(info.raw_cell or "")

    def post_run_cell(result: Any) -> None:
        err = result.error_in_exec
        if err is not None and runtime.was_expected(err):
            result.error_in_exec = None  # expected: the cell's reply is ok, papermill goes on
        failed = result.error_in_exec is not None or result.error_before_exec is not None
        mismatch = runtime.leave_cell(failed)
        if mismatch is not None:
            result.error_in_exec = mismatch
            shell.showtraceback((type(mismatch), mismatch, None))

    def custom_exc(
        shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None
    ) -> None:
        if not runtime.handle_exception(value):
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)

    shell.input_transformers_cleanup.insert(0, skip_unfinished)
    shell.events.register("pre_run_cell", pre_run_cell)
    shell.events.register("post_run_cell", post_run_cell)
    shell.set_custom_exc((BaseException,), custom_exc)
