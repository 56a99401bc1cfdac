"""Code extraction: both formats, first block wins, no code, cut-off fences."""

from __future__ import annotations

import pytest

from agent.extract import extract_code


def test_python_fence_with_plan_around_it() -> None:
    found = extract_code("Plan: add.\n```python\nx = 1 + 1\nprint(x)\n```\nDone.")
    assert found is not None
    assert found.code == "x = 1 + 1\nprint(x)"
    assert found.format == "python-fence"
    assert found.reasoning == "Plan: add.\n\nDone."


def test_code_tag_glm_style() -> None:
    found = extract_code("I will compute it.\n<code>\nfinal_answer(2 ** 20)\n</code>")
    assert found is not None
    assert (found.code, found.format) == ("final_answer(2 ** 20)", "code-tag")
    assert found.reasoning == "I will compute it."


@pytest.mark.parametrize(
    ("reply", "code", "fmt"),
    [
        ("<code>a = 1</code>\n```python\nb = 2\n```", "a = 1", "code-tag"),
        ("```python\nb = 2\n```\n<code>a = 1</code>", "b = 2", "python-fence"),
        ("```py\nfirst()\n```\n```python\nsecond()\n```", "first()", "python-fence"),
    ],
)
def test_first_block_wins(reply: str, code: str, fmt: str) -> None:
    found = extract_code(reply)
    assert found is not None
    assert (found.code, found.format) == (code, fmt)


@pytest.mark.parametrize(
    "reply",
    ["The answer is 4.", "```\nnot python-tagged\n```", "```python\n\n```", "<code>  </code>"],
)
def test_no_code(reply: str) -> None:
    assert extract_code(reply) is None


def test_unclosed_fence_at_the_end_is_taken() -> None:
    found = extract_code("Here:\n```python\nprint('cut off')")
    assert found is not None
    assert found.code == "print('cut off')"


def test_fence_inside_code_tags_is_unwrapped_and_indent_removed() -> None:
    found = extract_code("<code>\n```python\n    x = 3\n    print(x)\n```\n</code>")
    assert found is not None
    assert found.code == "x = 3\nprint(x)"
