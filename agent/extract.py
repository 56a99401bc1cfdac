"""Code extraction: the program in an LLM reply (```python fence or <code>…</code>), first wins.

GLM-4 writes `<code>…</code>`; most models write a fence. A fence the model did not close before
the reply ended is still taken, since a reply cut at `max_tokens` often loses only the fence.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import Literal

__all__ = ["CodeFormat", "Extracted", "extract_code"]

CodeFormat = Literal["python-fence", "code-tag"]

_FENCE = re.compile(r"```[ \t]*(?:python3?|py)[ \t]*\n(?P<body>.*?)(?:\n[ \t]*```|\Z)", re.S | re.I)
_TAG = re.compile(r"<code>(?P<body>.*?)(?:</code>|\Z)", re.S | re.I)
_INNER_FENCE = re.compile(
    r"\A\s*```[ \t]*(?:python3?|py)?[ \t]*\n(?P<body>.*?)\n?[ \t]*```\s*\Z", re.S | re.I
)

_PATTERNS: tuple[tuple[re.Pattern[str], CodeFormat], ...] = (
    (_FENCE, "python-fence"),
    (_TAG, "code-tag"),
)


@dataclass(frozen=True)
class Extracted:
    code: str
    format: CodeFormat
    reasoning: str  # the reply without the code block: the model's plan or explanation


def extract_code(reply: str) -> Extracted | None:
    """The first code block of the reply, or None when it has none (or only an empty one)."""
    candidates: list[tuple[int, re.Match[str], CodeFormat]] = []
    for pattern, fmt in _PATTERNS:
        found = pattern.search(reply)
        if found:
            candidates.append((found.start(), found, fmt))
    if not candidates:
        return None
    _, match, fmt = min(candidates, key=lambda item: item[0])
    body = match.group("body")
    if fmt == "code-tag":
        inner = _INNER_FENCE.match(body)  # some models fence the code inside the tags too
        if inner:
            body = inner.group("body")
    code = textwrap.dedent(body).strip("\n")
    if not code.strip():
        return None
    reasoning = (reply[: match.start()] + reply[match.end() :]).strip()
    return Extracted(code=code, format=fmt, reasoning=reasoning)
