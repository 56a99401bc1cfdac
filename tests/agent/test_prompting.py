"""Prompts are files: validated at load, filled with skills, variables, history and notes."""

from __future__ import annotations

import pytest
import yaml

from agent.prompting import (
    PLACEHOLDERS,
    PromptError,
    load_prompts,
    render,
    system_prompt,
    task_message,
    truncate,
)
from agent.sessions import Turn, history_text
from kernels.results import VariableInfo


def _packaged_data() -> dict[str, str]:
    from importlib import resources

    text = (resources.files("agent") / "prompts" / "code_agent.yaml").read_text()
    return yaml.safe_load(text)


def test_packaged_prompts_load_with_every_key() -> None:
    assert set(load_prompts()) == set(PLACEHOLDERS)


def test_missing_key_and_unknown_placeholder_are_load_errors() -> None:
    data = _packaged_data()
    del data["repair"]
    with pytest.raises(PromptError, match="missing templates: repair"):
        load_prompts(yaml.safe_dump(data))
    data = _packaged_data()
    data["no_code"] = "Write code, $user."
    with pytest.raises(PromptError, match=r"no_code: unknown placeholders \['user'\]"):
        load_prompts(yaml.safe_dump(data))


def test_system_prompt_shows_skills_delegates_variables_and_note() -> None:
    text = system_prompt(
        agent_name="master",
        description="General agent.",
        instructions="Be brief.",
        skills_section="def web_search(query: str) -> list[dict]:\n    '''Search.'''",
        delegates={"researcher": "Finds sources."},
        variables=[VariableInfo(name="orders", type="list", preview="[{'id': 1}, ...]")],
        state_note="The kernel was restarted.",
    )
    assert "def web_search(query: str) -> list[dict]:" in text
    assert "final_answer(value)" in text and "parallel(" in text
    assert "delegate(agent, task) -> str" in text and "- researcher: Finds sources." in text
    assert "- orders: list = [{'id': 1}, ...]" in text
    assert "The kernel was restarted." in text
    assert "Be brief." in text


def test_system_prompt_without_extras_has_no_empty_sections() -> None:
    text = system_prompt(
        agent_name="solo",
        description="d",
        instructions="",
        skills_section="",
        delegates={},
        variables=[],
    )
    assert "Specialists" not in text and "Variables already" not in text and "Note" not in text
    assert "$" not in text


def test_task_message_with_history_and_files() -> None:
    text = task_message("Count the rows", history="## Earlier turns\nTurn 1: x", files=["a.csv"])
    assert text.index("Earlier turns") < text.index("a.csv") < text.index("Count the rows")


def test_truncate_keeps_head_and_tail_and_says_how_much() -> None:
    text = "A" * 500 + "B" * 500
    cut = truncate(text, 100)
    assert cut.startswith("A" * 50) and cut.endswith("B" * 50)
    assert "[... 900 characters cut ...]" in cut
    assert truncate("short", 100) == "short"


def test_history_keeps_newest_within_budget_and_notes_the_dropped() -> None:
    turns = [
        Turn(task=f"task {i} " + "x" * 400, status="completed", answer=str(i)) for i in range(10)
    ]
    text = history_text(turns, budget_tokens=400)
    assert "Turn 10:" in text and "Turn 1:" not in text
    assert "earlier turns left out" in text
    assert text.index("Turn 9:") < text.index("Turn 10:")


def test_history_shortens_a_too_long_newest_turn() -> None:
    turns = [Turn(task="big", status="completed", answer="y" * 20000)]
    text = history_text(turns, budget_tokens=300)
    assert "Turn 1: big" in text
    assert "characters cut" in text
    assert len(text) < 2000


def test_render_requires_every_placeholder() -> None:
    with pytest.raises(KeyError):
        render("history_dropped")
