"""Fixtures of the notebook suites: one plain ipykernel for real outputs, records built from it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.records import ExecutionRecord
from tests.notebooks.programs import Program, ProgramKernel, record_of

IMAGE_PROGRAM = """\
from IPython.display import HTML, Image, display
import io
from PIL import Image as PILImage
buffer = io.BytesIO()
PILImage.new("RGB", (4, 4), "red").save(buffer, "PNG")
display(HTML("<b>found</b>"))
display(Image(buffer.getvalue()))
n = len(hits)
print("n =", n)
final_answer(f"{n} results: " + ", ".join(h["title"] for h in hits))
"""

SEARCH_PROGRAM = """\
hits = web_search("cats", max_results=2)
print(len(hits))
print(hits[5])
"""

HITS = [
    {"title": "Cat", "url": "https://a.example"},
    {"title": "Kitten", "url": "https://b.example"},
]


@pytest.fixture(scope="session")
def program_kernel() -> Iterator[ProgramKernel]:
    kernel = ProgramKernel()
    yield kernel
    kernel.close()


@pytest.fixture(scope="session")
def repaired_record(program_kernel: ProgramKernel) -> ExecutionRecord:
    """A search whose first program fails (and is repaired), then HTML, an image and the answer."""
    programs = [
        Program(SEARCH_PROGRAM, "I will search first.", {"web_search": [(True, HITS)]}),
        Program(IMAGE_PROGRAM, "Index 5 does not exist; count the hits instead."),
    ]
    return record_of(
        program_kernel, "How many cat pages?", programs, provider="default", model="fake-model"
    )
