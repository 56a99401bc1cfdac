"""Conformance: real sandboxed kernels, one pool for the suite; skills answered by host fakes."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from kernels import SessionKernel, SessionKernels, SkillStub
from tests.kernels.conftest import STUBS, FakeSkills, running

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def kernel(kernels: SessionKernels) -> SessionKernel:
    session = await kernels.open("conformance")
    await session.install_stubs(STUBS)
    return session


async def test_same_id_same_kernel_and_state_across_runs(
    kernels: SessionKernels, kernel: SessionKernel
) -> None:
    assert await kernels.open("conformance") is kernel
    first = await kernel.run("counter = 41\nimport math")
    second = await kernel.run("counter += 1\nprint(counter, math.pi > 3)")
    assert first.ok and second.ok
    assert second.stdout == "42 True\n"
    assert second.execution_count == first.execution_count + 1
    assert second.isolation == "bubblewrap"


async def test_final_answer_stops_the_cell_without_error(kernel: SessionKernel) -> None:
    result = await kernel.run("print('before')\nfinal_answer({'a': [1, 2]})\nprint('after')")
    assert result.status == "ok" and result.has_final_answer
    assert result.final_answer == {"a": [1, 2]}
    assert result.stdout == "before\n"
    assert not [o for o in result.outputs if o["output_type"] == "error"]


async def test_final_answer_is_no_error_to_ipython(kernel: SessionKernel) -> None:
    # IPython 9 formats a traceback for its history for every error (~15 ms a run)
    result = await kernel.run("final_answer(7)")
    assert result.final_answer == 7
    check = await kernel.run(
        "_h = get_ipython().history_manager\n"
        f"print({result.execution_count} in getattr(_h, 'exceptions', {{}}))"
    )
    assert check.stdout == "False\n", check


async def test_final_answer_of_a_non_json_value_is_its_repr(kernel: SessionKernel) -> None:
    result = await kernel.run(
        "class Thing:\n    def __repr__(self): return 'Thing()'\nfinal_answer(Thing())"
    )
    assert result.has_final_answer and result.final_answer == "Thing()"
    plain = await kernel.run("x_plain = 1")
    assert not plain.has_final_answer


async def test_final_answer_is_not_caught_by_except_exception(kernel: SessionKernel) -> None:
    code = "try:\n    final_answer('done')\nexcept Exception:\n    print('swallowed')"
    result = await kernel.run(code)
    assert result.final_answer == "done" and "swallowed" not in result.stdout


async def test_exception_gives_traceback_without_ansi(kernel: SessionKernel) -> None:
    result = await kernel.run("def inner():\n    raise ValueError('bad value')\ninner()")
    assert result.status == "error"
    assert result.error is not None
    assert (result.error.ename, result.error.evalue) == ("ValueError", "bad value")
    text = "\n".join(result.error.traceback)
    assert "inner()" in text and "\x1b[" not in text
    errors = [o for o in result.outputs if o["output_type"] == "error"]
    assert len(errors) == 1 and errors[0]["ename"] == "ValueError"


async def test_skill_args_and_kwargs_reach_the_host(
    kernel: SessionKernel, skills: FakeSkills
) -> None:
    code = "hits = web_search('jupyter', max_results=2)\nprint(len(hits), hits[1]['title'])\nprint(echo('ab', 3))"
    result = await kernel.run(code, on_call=skills)
    assert result.ok, result.error
    assert result.stdout == "2 jupyter 1\nababab\n"
    assert skills.calls == [
        ("web_search", ["jupyter"], {"max_results": 2}),
        ("echo", ["ab", 3], {}),
    ]
    assert [c.ok for c in result.calls] == [True, True]


async def test_bad_arguments_fail_in_the_program_before_any_call(
    kernel: SessionKernel, skills: FakeSkills
) -> None:
    result = await kernel.run("web_search()", on_call=skills)
    assert result.error is not None and result.error.ename == "TypeError"
    assert "query" in result.error.evalue and skills.calls == []
    unserialisable = await kernel.run("echo(object())", on_call=skills)
    assert unserialisable.error is not None and "JSON" in unserialisable.error.evalue


async def test_skill_errors_raise_skill_error(kernel: SessionKernel, skills: FakeSkills) -> None:
    caught = await kernel.run(
        "try:\n    fail('no luck')\nexcept SkillError as exc:\n    print('caught:', exc)",
        on_call=skills,
    )
    assert caught.ok and caught.stdout == "caught: no luck\n"
    assert caught.calls[0].ok is False
    uncaught = await kernel.run("fail('again')", on_call=skills)
    assert uncaught.error is not None
    assert (uncaught.error.ename, uncaught.error.evalue) == ("SkillError", "again")


async def test_host_side_failures_reach_the_program_as_errors(
    kernel: SessionKernel, skills: FakeSkills
) -> None:
    opaque = await kernel.run("opaque()", on_call=skills)
    assert opaque.error is not None and "cannot receive" in opaque.error.evalue
    crashed = await kernel.run("crash()", on_call=skills)
    assert crashed.error is not None and "handler bug" in crashed.error.evalue
    no_handler = await kernel.run("echo('x')")
    assert no_handler.error is not None and no_handler.error.ename == "SkillError"


async def test_large_results_cross_whole(kernel: SessionKernel, skills: FakeSkills) -> None:
    result = await kernel.run("blob = big(5_000_000)\nprint(len(blob))", on_call=skills)
    assert result.ok and result.stdout == "5000000\n"


async def test_parallel_runs_calls_concurrently_in_order(kernel: SessionKernel) -> None:
    skills = FakeSkills()
    code = (
        "res = parallel(lambda: gathered('a'), (gathered, 'b'), lambda: gathered('c'))\nprint(res)"
    )
    result = await kernel.run(code, on_call=skills)
    assert result.ok, result.error
    assert result.stdout == "['got a', 'got b', 'got c']\n"
    assert len(result.calls) == 3


async def test_parallel_items_may_make_several_calls(
    kernel: SessionKernel, skills: FakeSkills
) -> None:
    code = (
        "def two(t):\n    return echo(t) + echo(t, 2)\n"
        "print(parallel(lambda: two('a'), lambda: two('b'), lambda: delegate('coder', 'fix')))"
    )
    result = await kernel.run(code, on_call=skills)
    assert result.ok, result.error
    assert result.stdout == "['aaa', 'bbb', 'coder did: fix']\n"


async def test_delegate_and_describe_skills_arrive_as_calls(
    kernel: SessionKernel, skills: FakeSkills
) -> None:
    result = await kernel.run(
        "print(delegate('researcher', 'find x'))\nprint(describe_skills('echo', 'fail'))",
        on_call=skills,
    )
    assert result.stdout == "researcher did: find x\ndocs of echo,fail\n"
    assert [c[0] for c in skills.calls] == ["delegate", "describe_skills"]


async def test_stubs_have_real_signatures_and_docs(kernel: SessionKernel) -> None:
    result = await kernel.run("help(web_search)")
    assert "web_search(query: str, max_results: int = 5) -> list[dict]" in result.stdout
    assert "Search the web." in result.stdout


async def test_install_stubs_defines_exactly_the_given_skills(kernels: SessionKernels) -> None:
    session = await kernels.open("stubs-" + uuid.uuid4().hex[:6])
    await session.install_stubs([SkillStub("alpha", "()"), SkillStub("beta", "(x)")])
    await session.install_stubs([SkillStub("beta", "(x)")])
    result = await session.run("print(callable(beta), 'alpha' in dir(), callable(final_answer))")
    assert result.stdout == "True False True\n"
    await kernels.close(session.session_id)


async def test_rich_outputs_kept_in_nbformat_form(kernel: SessionKernel) -> None:
    code = (
        "import base64\nfrom IPython.display import HTML, Image, JSON, display\n"
        "png = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')\n"
        "display(HTML('<b>hi</b>'))\ndisplay(Image(data=png))\ndisplay(JSON({'k': 1}))\n40 + 2"
    )
    result = await kernel.run(code)
    kinds = [o["output_type"] for o in result.outputs]
    assert kinds == ["display_data", "display_data", "display_data", "execute_result"]
    assert result.outputs[0]["data"]["text/html"] == "<b>hi</b>"
    assert "image/png" in result.outputs[1]["data"]
    assert result.outputs[2]["data"]["application/json"] == {"k": 1}
    assert result.outputs[3]["data"]["text/plain"] == "42"


async def test_outputs_stream_to_on_output(kernel: SessionKernel) -> None:
    seen: list[dict[str, Any]] = []

    async def on_output(output: dict[str, Any]) -> None:
        seen.append(output)

    result = await kernel.run(
        "import sys\nprint('one')\nprint('two', file=sys.stderr)", on_output=on_output
    )
    assert "".join(o["text"] for o in seen if o.get("name") == "stdout") == "one\n"
    assert result.stderr == "two\n"


async def test_input_gets_a_clear_error(kernel: SessionKernel) -> None:
    result = await kernel.run("name = input('Your name? ')")
    assert result.error is not None and "no person" in result.error.evalue


async def test_interrupt_keeps_variables(kernel: SessionKernel) -> None:
    started = asyncio.Event()

    def on_output(output: dict[str, Any]) -> None:
        started.set()

    await kernel.run("kept = 'still here'")
    task = asyncio.create_task(
        kernel.run("print('go', flush=True)\nwhile True: pass", on_output=on_output)
    )
    await asyncio.wait_for(started.wait(), 20)
    await kernel.interrupt()
    result = await task
    assert result.status == "interrupted"
    assert result.error is not None and result.error.ename == "KeyboardInterrupt"
    after = await kernel.run("print(kept)")
    assert after.stdout == "still here\n" and not after.state_lost


async def test_timeout_interrupts_and_keeps_the_session(kernel: SessionKernel) -> None:
    await kernel.run("before_timeout = 7")
    result = await kernel.run("import time\ntime.sleep(100)", timeout=1.0)
    assert result.status == "timeout" and not result.state_lost
    assert result.error is not None and result.error.ename == "KeyboardInterrupt"
    assert (await kernel.run("print(before_timeout)")).stdout == "7\n"


async def _cancel_once_printing(session: SessionKernel, program: str) -> None:
    started = asyncio.Event()
    task = asyncio.create_task(session.run(program, on_output=lambda _: started.set()))
    await asyncio.wait_for(started.wait(), 20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_cancelled_run_is_stopped_before_the_next(kernels: SessionKernels) -> None:
    # the program swallows the first interrupt (as one that lands before the cell starts is
    # lost): the next run must not queue behind it, the second interrupt stops it. A handler
    # counts them, so where in the loop an interrupt lands does not matter (a try around the
    # sleep missed one that landed between statements, and seen was never set)
    session = await kernels.open("cancel-" + uuid.uuid4().hex[:6])
    await session.install_stubs(STUBS)
    await session.run("kept = 5")
    program = (
        "import signal, time\nseen = 0\n"
        "def count(signum, frame):\n    global seen\n    seen += 1\n"
        "    if seen == 2:\n        raise KeyboardInterrupt\n"
        "signal.signal(signal.SIGINT, count)\nprint('go', flush=True)\n"
        "while True:\n    time.sleep(0.05)\n"
    )
    await _cancel_once_printing(session, program)
    after = await session.run("print(kept, seen)", timeout=20)
    assert after.ok and after.stdout == "5 2\n" and not after.state_lost
    # one that ignores every interrupt: the kernel is replaced and the next run says so
    await _cancel_once_printing(
        session,
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "print('go', flush=True)\nwhile True: time.sleep(0.05)",
    )
    fresh = await session.run("print('kept' in dir())", timeout=20)
    assert fresh.ok and fresh.stdout == "False\n" and fresh.state_lost
    await kernels.close(session.session_id)


async def test_kernel_death_restarts_with_state_lost(kernels: SessionKernels) -> None:
    session = await kernels.open("dies-" + uuid.uuid4().hex[:6])
    await session.install_stubs(STUBS)
    await session.run("doomed = 1")
    old_pid = session.live.pid if session.live else None
    died = await session.run("import os\nos._exit(3)")
    assert died.status == "died" and died.state_lost
    assert died.error is not None and "exit code" in died.error.evalue
    assert old_pid is not None and not running(old_pid)
    assert session.run_count == 0
    after = await session.run("print('doomed' in dir(), callable(echo))")
    assert after.ok and after.stdout == "False True\n"
    await kernels.close(session.session_id)


async def test_output_flood_is_capped_with_a_note(
    kernels: SessionKernels, kernel: SessionKernel
) -> None:
    cap = kernels.config.limits.output_bytes
    result = await kernel.run("for i in range(300_000):\n    print('line', i)")
    assert result.ok
    assert result.truncated_bytes > 0 and len(result.stdout) < cap + 200
    assert result.stdout.startswith("line 0\n") and result.stdout.endswith("line 299999\n")
    assert "characters of output cut" in result.stdout
    assert (await kernel.run("print('next')")).stdout == "next\n"


async def test_variables_lists_the_program_state(kernel: SessionKernel) -> None:
    await kernel.run("inventory = {'apples': 3}\n_private = 1")
    found = {v.name: v for v in await kernel.variables()}
    assert found["inventory"].type == "dict" and "apples" in found["inventory"].preview
    assert "_private" not in found and "echo" not in found and "final_answer" not in found


async def test_workspace_is_the_working_directory(kernels: SessionKernels) -> None:
    session_id = "files-" + uuid.uuid4().hex[:6]
    workspace = kernels.workspace(session_id)
    (workspace / "upload.txt").write_text("uploaded before the kernel")
    session = await kernels.open(session_id)
    result = await session.run(
        "print(open('upload.txt').read())\nopen('out.txt', 'w').write('made inside')"
    )
    assert result.ok and result.stdout == "uploaded before the kernel\n"
    assert (workspace / "out.txt").read_text() == "made inside"
    assert session.workspace == workspace
    await kernels.close(session_id)


async def test_bad_session_id_is_a_clear_error(kernels: SessionKernels) -> None:
    from kernels import BadSessionId

    with pytest.raises(BadSessionId) as info:
        await kernels.open("../escape")
    assert info.value.code == "bad_request"


async def test_close_leaves_no_kernel_process(kernels: SessionKernels) -> None:
    session = await kernels.open("closing-" + uuid.uuid4().hex[:6])
    await session.run("x = 1")
    assert session.live is not None
    pids = set(session.live.keep)
    await kernels.close(session.session_id)
    assert not [pid for pid in pids if running(pid)]
