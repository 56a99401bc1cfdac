"""The in-kernel runtime: skill stubs, final_answer, delegate, parallel, describe_skills.

This file is sent as source into each kernel at start (the project directory is masked inside
the sandbox) and executed as the module `_agent_runtime`; it uses the standard library only and
never runs in the server process. Calls reach the host as an `input_request` on the Jupyter stdin
channel whose prompt is MARK + JSON; the host answers with the outcomes as JSON.
"""

from __future__ import annotations

import builtins
import getpass
import inspect
import json
import os
import reprlib
import threading
from collections.abc import Callable
from typing import Any

__all__ = [
    "MARK",
    "SkillError",
    "delegate",
    "describe_skills",
    "final_answer",
    "install_stubs",
    "parallel",
    "setup",
    "take_final",
    "variables",
]

MARK = "\x00agent-call\x00"
_RUNTIME_NAMES = ("final_answer", "delegate", "parallel", "describe_skills", "SkillError")
_shell: Any = None
_stubs: set[str] = set()
_final: dict[str, Any] = {}
_local = threading.local()


class SkillError(Exception):
    """A skill (or a delegated agent) failed; the message says why."""

    def __init__(self, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type


class _FinalAnswer(BaseException):  # a signal, not an error: `except Exception` must not catch it
    def __init__(self, value: Any) -> None:
        super().__init__("final_answer")
        self.value = value


# --- the bridge to the host ------------------------------------------------------------------


def _encode_call(name: str, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    call = {"name": name, "args": args, "kwargs": kwargs}
    try:
        json.dumps(call)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name}(): arguments must be JSON values (str, int, float, bool, None, list, dict): {exc}"
        ) from None
    return call


def _exchange(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One round trip to the host for a batch of calls (main thread only)."""
    reply = _shell.kernel.raw_input(MARK + json.dumps({"calls": calls}))
    try:
        outcomes = json.loads(reply)["outcomes"]
    except (ValueError, KeyError, TypeError):
        raise SkillError(f"the host sent an unreadable reply: {reply[:200]!r}") from None
    if len(outcomes) != len(calls):
        raise SkillError("the host answered a different number of calls than were made")
    return outcomes


def _result(name: str, outcome: dict[str, Any]) -> Any:
    if outcome.get("ok"):
        return outcome.get("result")
    raise SkillError(outcome.get("error") or f"{name} failed", outcome.get("error_type"))


def _call(name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    call = _encode_call(name, args, kwargs)
    batch: _Batch | None = getattr(_local, "batch", None)
    if batch is not None:
        return _result(name, batch.submit(call))
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(
            f"{name}(): skills can be called from the program itself or inside parallel(...), "
            "not from threads it starts"
        )
    return _result(name, _exchange([call])[0])


class _Batch:
    """parallel(): worker threads queue their calls; the main thread sends them as one batch."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.done = 0
        self.pending: list[tuple[dict[str, Any], list[Any], threading.Event]] = []
        self.cond = threading.Condition()

    def submit(self, call: dict[str, Any]) -> dict[str, Any]:
        slot: list[Any] = []
        ready = threading.Event()
        with self.cond:
            self.pending.append((call, slot, ready))
            self.cond.notify_all()
        ready.wait()
        return slot[0]

    def finished(self) -> None:
        with self.cond:
            self.done += 1
            self.cond.notify_all()

    def next_round(self) -> list[tuple[dict[str, Any], list[Any], threading.Event]] | None:
        """Wait until every live worker waits on a call (or all are done); None when done."""
        with self.cond:
            while self.done + len(self.pending) < self.size or (
                not self.pending and self.done < self.size
            ):
                self.cond.wait(0.05)  # short waits keep KeyboardInterrupt (interrupt) working
            if self.done == self.size and not self.pending:
                return None
            taken, self.pending = self.pending, []
            return taken


def _as_thunk(item: Any) -> Callable[[], Any]:
    if callable(item):
        return item
    if isinstance(item, tuple | list) and item and callable(item[0]):
        func, *args = item
        return lambda: func(*args)
    raise TypeError(f"parallel() takes callables or (function, *args) tuples, got {item!r}")


def parallel(*items: Any) -> list[Any]:
    """Run several skill calls or delegations at once; returns their results in order.

    Each item is a callable (`lambda: web_search("x")`) or a `(function, *args)` tuple. The
    calls the items make are sent to the host together and run there concurrently.
    """
    thunks = [_as_thunk(item) for item in items]
    if getattr(_local, "batch", None) is not None:
        return [thunk() for thunk in thunks]  # nested: the outer batch already runs concurrently
    batch = _Batch(len(thunks))
    results: list[Any] = [None] * len(thunks)
    errors: list[BaseException | None] = [None] * len(thunks)

    def work(index: int) -> None:
        _local.batch = batch
        try:
            results[index] = thunks[index]()
        except BaseException as exc:
            errors[index] = exc
        finally:
            batch.finished()

    workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(thunks))]
    for worker in workers:
        worker.start()
    while (taken := batch.next_round()) is not None:
        outcomes = _exchange([call for call, _, _ in taken])
        for (_, slot, ready), outcome in zip(taken, outcomes, strict=True):
            slot.append(outcome)
            ready.set()
    for worker in workers:
        worker.join()
    for error in errors:
        if error is not None:
            raise error
    return results


def final_answer(value: Any) -> None:
    """Hand back the answer; the rest of the program does not run."""
    raise _FinalAnswer(value)


def delegate(agent: str, task: str) -> Any:
    """Hand a self-contained task to another agent; returns its answer."""
    return _call("delegate", [agent, task], {})


def describe_skills(*names: str) -> str:
    """Full signatures and documentation of the named skills."""
    return _call("describe_skills", list(names), {})


# --- stubs -------------------------------------------------------------------------------------


def _signature(signature: str) -> inspect.Signature | None:
    for prefix in ("", "from __future__ import annotations\n"):
        namespace: dict[str, Any] = {}
        try:
            source = f"{prefix}def _f{signature}: pass"
            # dont_inherit: this module's own `from __future__ import annotations` must not apply
            exec(compile(source, "<skill-signature>", "exec", dont_inherit=True), namespace)
            return inspect.signature(namespace["_f"])
        except Exception:
            continue
    return None


def _make_stub(name: str, signature: str, doc: str) -> Callable[..., Any]:
    sig = _signature(signature)

    def stub(*args: Any, **kwargs: Any) -> Any:
        if sig is not None:
            try:
                sig.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{name}{signature}: {exc}") from None
        return _call(name, list(args), kwargs)

    stub.__name__ = stub.__qualname__ = name
    stub.__doc__ = doc or f"The {name} skill."
    stub.__module__ = "skills"
    if sig is not None:
        stub.__signature__ = sig  # type: ignore[attr-defined]
    stub._agent_stub = True  # type: ignore[attr-defined]
    return stub


def install_stubs(specs_json: str) -> None:
    """Define exactly these skill functions (and the runtime's) in the program's namespace."""
    specs = json.loads(specs_json)
    user_ns = _shell.user_ns
    for name in _stubs - {spec["name"] for spec in specs}:
        if getattr(user_ns.get(name), "_agent_stub", False):
            del user_ns[name]
    _stubs.clear()
    for spec in specs:
        user_ns[spec["name"]] = _make_stub(spec["name"], spec["signature"], spec.get("doc", ""))
        _stubs.add(spec["name"])
    for name in _RUNTIME_NAMES:
        user_ns[name] = globals()[name]
    _shell.user_ns_hidden.update({name: user_ns[name] for name in (*_stubs, *_RUNTIME_NAMES)})


# --- results the host reads with user_expressions -------------------------------------------


def take_final() -> str:
    """The final answer of the cell just run, as JSON: {"has", "value", "repr"}."""
    if "value" not in _final:
        return '{"has": false}'
    value = _final.pop("value")
    try:
        return json.dumps({"has": True, "value": value, "repr": False}, allow_nan=False)
    except (TypeError, ValueError):
        return json.dumps({"has": True, "value": repr(value), "repr": True})


def variables() -> str:
    """The program's variables as JSON: [{"name", "type", "preview"}]."""
    short = reprlib.Repr()
    short.maxstring = short.maxother = 80
    hidden = _shell.user_ns_hidden
    found = []
    for name, value in list(_shell.user_ns.items()):
        if name.startswith("_") or name in hidden:
            continue
        try:
            preview = short.repr(value)
        except Exception as exc:
            preview = f"<repr failed: {type(exc).__name__}>"
        found.append({"name": name, "type": type(value).__name__, "preview": preview[:120]})
    return json.dumps(found)


# --- IPython hooks -----------------------------------------------------------------------------


def _no_input(prompt: object = "") -> str:
    raise RuntimeError(
        "input() is not available: no person is at the other end of this program. "
        "Work with the data you have, or hand back a question with final_answer(...)."
    )


def _no_getpass(prompt: str = "Password: ", stream: Any = None) -> str:
    return _no_input(prompt)


def _reap_zombies() -> None:
    """Reap children the host killed after the last run: zombies still count for RLIMIT_NPROC."""
    pid = os.getpid()
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            children = [int(p) for p in fh.read().split()]
    except (OSError, ValueError):
        return
    for child in children:
        try:
            with open(f"/proc/{child}/stat") as fh:
                zombie = fh.read().rsplit(")", 1)[1].split()[0] == "Z"
            if zombie:
                os.waitpid(child, os.WNOHANG)
        except (OSError, IndexError, ChildProcessError):
            continue


def _pre_run_cell(info: Any) -> None:
    _reap_zombies()
    _final.clear()
    builtins.input = _no_input
    getpass.getpass = _no_getpass


def _on_final(
    shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
) -> None:
    _final["value"] = value.value  # type: ignore[attr-defined]
    # not an error: cleared here, IPython would format a traceback for its history (~15 ms)
    result = getattr(shell.displayhook, "exec_result", None)
    if result is not None and result.error_in_exec is value:
        result.error_in_exec = None


def _post_run_cell(result: Any) -> None:
    # final_answer ended the cell on purpose: report it as a success, not an error (in case
    # _on_final could not reach the result)
    if isinstance(result.error_in_exec, _FinalAnswer):
        result.error_in_exec = None


def setup(shell: Any) -> None:
    global _shell
    _shell = shell
    shell.set_custom_exc((_FinalAnswer,), _on_final)
    shell.events.register("pre_run_cell", _pre_run_cell)
    shell.events.register("post_run_cell", _post_run_cell)
    install_stubs("[]")
