"""Discovery of skill folders, broken folders reported (never stopping the others), reload."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from skills import SkillRegistry, SkillsConfig
from tests.skills.skill_folders import write_skill

GOOD = '''
def word_stats(text: str, top: int = 3) -> dict:
    """Count words; return {"words": n}."""
    return {"words": len(text.split()), "top": top}
'''


def _registry(extra: Path, **config: object) -> SkillRegistry:
    return SkillRegistry(SkillsConfig(extra_dirs=[extra], reload=False, **config))  # type: ignore[arg-type]


async def test_builtins_are_discovered_with_pinned_signatures(builtins: SkillRegistry) -> None:
    catalog = builtins.catalog()
    by_name = {s.name: s for s in catalog.skills}
    assert set(by_name) == {
        "web-search",
        "summarize",
        "code-analysis",
        "http-fetch",
        "read-file",
        "write-file",
        "list-files",
    }
    assert catalog.errors == []
    assert by_name["web-search"].signature == "(query: str, max_results: int = 5) -> list[dict]"
    assert by_name["summarize"].signature == "(text: str, max_words: int = 120) -> str"
    assert by_name["code-analysis"].signature == "(code: str, language: str = 'python') -> dict"
    assert by_name["web-search"].python_name == "web_search"
    assert by_name["web-search"].source == "builtin"
    schema = by_name["web-search"].json_schema
    assert schema["required"] == ["query"]
    assert schema["properties"]["max_results"]["type"] == "integer"
    assert "context" not in schema["properties"]


async def test_folder_skill_found_in_extra_dir(tmp_path: Path) -> None:
    write_skill(tmp_path, "word-stats", GOOD, description="Count words.")
    registry = _registry(tmp_path)
    await registry.start()
    info = registry.get("word_stats")
    assert info is not None and info.source == "folder" and info.description == "Count words."
    assert info.signature == "(text: str, top: int = 3) -> dict"
    assert "Notes for word-stats." in registry.describe(["word-stats"])
    await registry.close()


BROKEN = {
    "bad-yaml": ("---\nname: bad-yaml\ndescription: [unclosed\n---\n", GOOD, "bad YAML"),
    "no-front": ("just text\n", GOOD, "no YAML front matter"),
    "import-fails": (None, "import not_a_module_anywhere\n", "import failed: ModuleNotFoundError"),
    "no-function": (
        None,
        "def something_else() -> None: ...\n",
        "defines no function no_function()",
    ),
    "wrong-name": (
        "---\nname: other-name\ndescription: x\n---\n",
        GOOD,
        "differs from the folder name",
    ),
    "no-description": ("---\nname: no-description\n---\n", GOOD, "description is missing"),
    "star-args": (
        None,
        "def star_args(*values: int) -> int:\n    return 0\n",
        "only named parameters",
    ),
}


async def test_broken_folders_are_reported_and_others_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name, (skill_md, handler, _) in BROKEN.items():
        write_skill(tmp_path, name, handler, skill_md=skill_md)
    write_skill(tmp_path, "word-stats", GOOD)
    registry = _registry(tmp_path)
    with caplog.at_level(logging.WARNING, logger="skills.registry"):
        await registry.start()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for name in BROKEN:
        assert f"skill not loaded: {tmp_path / name}/" in logged, logged
    catalog = registry.catalog()
    assert "word-stats" in {s.name for s in catalog.skills}
    reasons = {Path(e.path).parent.name: e for e in catalog.errors}
    for name, (_, _, expected) in BROKEN.items():
        assert name in reasons, f"{name} not reported: {catalog.errors}"
        assert expected in reasons[name].reason
    assert reasons["import-fails"].path.endswith("import-fails/handler.py")
    assert reasons["bad-yaml"].path.endswith("bad-yaml/SKILL.md")
    assert "line" in reasons["bad-yaml"].reason
    await registry.close()


async def test_duplicate_name_keeps_builtin_and_disabled_is_left_out(tmp_path: Path) -> None:
    write_skill(tmp_path, "summarize", "def summarize(text: str) -> str:\n    return text\n")
    registry = _registry(tmp_path, disabled=["http-fetch"])
    await registry.start()
    catalog = registry.catalog()
    assert registry.get("summarize") is not None and registry.get("summarize").source == "builtin"  # type: ignore[union-attr]
    assert any("already used" in e.reason for e in catalog.errors)
    assert registry.get("http-fetch") is None
    await registry.close()


async def test_missing_extra_dir_is_reported(tmp_path: Path) -> None:
    registry = _registry(tmp_path / "absent")
    await registry.start()
    assert [e.reason for e in registry.catalog().errors] == ["skill directory not found"]
    await registry.close()


async def _until(predicate: Callable[[], object], within_s: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail("the registry did not pick the change up")
        await asyncio.sleep(0.05)


async def test_watcher_picks_up_new_edited_and_removed_folders(
    tmp_path: Path, context: object
) -> None:
    registry = SkillRegistry(
        SkillsConfig(extra_dirs=[tmp_path], reload=True, reload_debounce_ms=50)
    )
    await registry.start()
    await asyncio.sleep(0.3)  # let the watcher arm before the first change
    assert registry.get("word-stats") is None

    write_skill(tmp_path, "word-stats", GOOD)
    await _until(lambda: registry.get("word-stats") is not None)

    edited = GOOD.replace('"top": top', '"top": top, "edited": True')
    (tmp_path / "word-stats" / "handler.py").write_text(edited, encoding="utf-8")

    async def edited_seen() -> bool:
        call = await registry.call("word_stats", ["a b"], {}, context)  # type: ignore[arg-type]
        return bool(call.ok and call.result.get("edited"))

    deadline = asyncio.get_running_loop().time() + 15
    while not await edited_seen():
        assert asyncio.get_running_loop().time() < deadline, "edit not reloaded"
        await asyncio.sleep(0.05)

    (tmp_path / "word-stats" / "handler.py").write_text(
        "import broken_module_x\n", encoding="utf-8"
    )
    await _until(lambda: registry.get("word-stats") is None and registry.catalog().errors)

    shutil.rmtree(tmp_path / "word-stats")
    await _until(lambda: not registry.catalog().errors)
    await registry.close()
