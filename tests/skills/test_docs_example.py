"""The worked example of docs/skills.md, taken from the page itself: it loads, and says what the
page says it says."""

from __future__ import annotations

import re
from pathlib import Path

from skills import SkillContext, SkillRegistry, SkillsConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "skills.md"


def _block_after(text: str, marker: str, fence: str) -> str:
    start = text.index(marker)
    match = re.compile(rf"^{fence}\w*\n(.*?)^{fence}$", re.S | re.M).search(text, start)
    assert match, f"no {fence} block after {marker!r} in docs/skills.md"
    return match.group(1)


async def test_the_worked_example_works_as_documented(
    tmp_path: Path, context: SkillContext
) -> None:
    text = DOC.read_text(encoding="utf-8")
    folder = tmp_path / "my-skills" / "word-stats"
    folder.mkdir(parents=True)
    skill_md = _block_after(text, "`my-skills/word-stats/SKILL.md`", "````")
    (folder / "SKILL.md").write_text(skill_md, encoding="utf-8")
    handler = _block_after(text, "`my-skills/word-stats/handler.py`", "```")
    (folder / "handler.py").write_text(handler, encoding="utf-8")

    registry = SkillRegistry(
        SkillsConfig(
            extra_dirs=[tmp_path / "my-skills"],
            reload=False,
            settings={"word-stats": {"stop_words": ["the", "a", "an"]}},
        )
    )
    await registry.start()
    try:
        assert registry.catalog().errors == []
        shown = _block_after(text, "The program sees this signature", "```")
        assert registry.describe(["word-stats"]).startswith(shown.strip())
        call = await registry.call("word_stats", ["The cat saw the other cat"], {"top": 2}, context)
        assert call.result == {"words": 6, "top": [["cat", 2], ["saw", 1]]}
        documented = _block_after(text, "these are the real messages of this example", "```")
        bad_calls: list[tuple[list, dict]] = [
            ([], {}),
            (["x"], {"top": 0}),
            ([42], {}),
            (["x"], {"limit": 3}),
            (["123"], {}),
        ]
        for args, kwargs in bad_calls:
            failed = await registry.call("word_stats", args, kwargs, context)
            assert failed.error and failed.error in documented, failed.error
    finally:
        await registry.close()
