"""What the model sees after a run: capped output, the traceback, one line per call, no results."""

from __future__ import annotations

from agent.observation import Caps, call_line, observe
from kernels.results import KernelError, RunResult
from skills.records import SkillCall


def _call(ok: bool = True, result: object = "x" * 5000) -> SkillCall:
    return SkillCall(
        id="c1",
        skill="web-search",
        args=["jupyter"],
        kwargs={"max_results": 3},
        ok=ok,
        result=result if ok else None,
        result_size=5002 if ok else 0,
        error=None if ok else "backend down",
        error_type=None if ok else "SkillError",
    )


def test_call_line_names_the_call_but_never_its_result() -> None:
    line = call_line(_call())
    assert line == "web-search('jupyter', max_results=3) -> ok (str, 4.9 kB)"
    assert "xxxx" not in line
    assert call_line(_call(ok=False)).endswith("-> SkillError: backend down")


def test_repair_shows_output_traceback_and_calls() -> None:
    result = RunResult(
        status="error",
        stdout="before the error\n",
        error=KernelError(
            "KeyError", "'title'", ["Traceback (most recent call last):", "KeyError: 'title'"]
        ),
    )
    text = observe(result, [_call()], Caps())
    assert "The program failed with KeyError: 'title'" in text
    assert "before the error" in text and "Traceback (most recent call last):" in text
    assert "web-search('jupyter', max_results=3) -> ok" in text
    assert "xxxx" not in text


def test_long_output_is_cut_with_head_and_tail_kept() -> None:
    result = RunResult(status="ok", stdout="HEAD" + "." * 50_000 + "TAIL")
    text = observe(result, [], Caps(observation_chars=1000))
    assert "did not call `final_answer`" in text
    assert "HEAD" in text and "TAIL" in text and "characters cut" in text
    assert len(text) < 1500


def test_timeout_and_died_have_their_own_messages() -> None:
    timeout = observe(RunResult(status="timeout", stdout="tick"), [], Caps(run_timeout_s=5))
    assert "ran longer than 5 seconds" in timeout and "tick" in timeout
    died = observe(RunResult(status="died", state_lost=True), [], Caps())
    assert "kernel died" in died and "variables are gone" in died
