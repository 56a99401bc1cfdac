"""The scripted provider (not a model): matching, turns, streaming, errors, and the shipped demo."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from agent.config import load_settings
from agent.llm import LLMError, LLMProviders, LLMSettings, Message, ProviderConfig

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "scripted-demo.yaml"


def scripted(path: Path) -> LLMProviders:
    config = ProviderConfig(type="scripted", script_file=path)
    return LLMProviders(LLMSettings(default="demo", providers={"demo": config}))


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "replies.yaml"
    path.write_text(
        '- match: "weather"\n  reply: "sunny"\n'
        '- reply: "first in turn"\n'
        '- match: "rain|weather"\n  reply: "never: an earlier match wins"\n'
        '- reply: "second in turn"\n'
        "- match: tools\n  reply: calling\n  tool_calls: [{name: add, arguments: {a: 1, b: 2}}]\n"
    )
    return path


async def test_first_match_wins_and_the_rest_answer_in_turn(script: Path) -> None:
    provider = scripted(script).get()
    assert (provider.kind, provider.model, provider.is_model) == ("scripted", "scripted", False)
    answers = []
    for text in ("hello", "Weather today?", "hi", "again", "rain?"):
        history = [Message("user", "weather"), Message("assistant", "x"), Message("user", text)]
        answers.append((await provider.complete(history)).text)
    assert answers == [
        "first in turn",
        "sunny",
        "second in turn",
        "first in turn",
        "never: an earlier match wins",
    ]


async def test_it_streams_and_estimates_usage_like_the_fake_server(script: Path) -> None:
    deltas: list[str] = []
    completion = (
        await scripted(script)
        .get()
        .complete(
            [Message("user", "the weather please")], system="two words", on_delta=deltas.append
        )
    )
    assert "".join(deltas) == completion.text == "sunny"
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (5, 1)
    assert completion.provider == "demo"


async def test_scripted_tool_calls(script: Path) -> None:
    completion = await scripted(script).get().complete([Message("user", "use tools")])
    assert [(c.name, c.arguments) for c in completion.tool_calls] == [("add", {"a": 1, "b": 2})]


async def test_no_entry_for_a_message_is_an_error_value(tmp_path: Path) -> None:
    path = tmp_path / "only-matches.yaml"
    path.write_text('- match: "^yes$"\n  reply: "ok"\n')
    with pytest.raises(LLMError) as caught:
        await scripted(path).get().complete([Message("user", "no")])
    assert caught.value.code == "llm_error"
    assert "no entry matches 'no'" in caught.value.message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("- match: '('\n  reply: x\n", "bad `match` regex"),
        ("- match: x\n", "needs a `reply`"),
        ("reply: x\n", "expected a YAML list"),
        ("- [unclosed\n", "broken YAML"),
        ("[]\n", "is empty"),
    ],
)
def test_a_broken_script_makes_the_provider_unusable_with_the_reason(
    tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    providers = scripted(path)
    status = providers.status()["demo"]
    assert status["usable"] is False and says in status["reason"] and str(path) in status["reason"]
    with pytest.raises(LLMError) as caught:
        providers.get()
    assert caught.value.code == "llm_unconfigured"
    assert "\n" not in caught.value.message


def skills_called(reply: str) -> set[str]:
    [program] = re.findall(r"```python\n(.*?)```", reply, flags=re.DOTALL)
    tree = ast.parse(program)  # every canned program is valid Python
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


@pytest.mark.parametrize(
    ("task", "calls"),
    [
        ("what is 2**20", {"final_answer"}),
        ("What is 7 times 6?", {"final_answer"}),
        ("Summarize this product in one line", {"summarize", "final_answer"}),
        ("Analyze this code for me", {"code_analysis", "final_answer"}),
        ("Who maintains jupyter_client?", {"web_search", "final_answer"}),
        ("The program failed with NameError: name 'x' is not defined", {"final_answer"}),
    ],
)
async def test_the_shipped_demo_answers_with_programs_calling_this_products_skills(
    task: str, calls: set[str]
) -> None:
    settings = load_settings(env={"DEFAULT_LLM_PROVIDER": "scripted"}, root=ROOT, read_dotenv=False)
    providers = LLMProviders(settings.llm)
    provider = providers.get()
    assert provider.is_model is False
    completion = await provider.complete([Message("user", f"## Task\n{task}\n")])
    called = skills_called(completion.text)
    assert calls <= called
    assert not called & ({"web_search", "summarize", "code_analysis"} - calls)
    assert "motia" not in DEMO.read_text().lower()
