"""Catalog size with 500 MCP tools attached: progressive disclosure vs full signatures.

A real MCP SDK server process (`tests/skills/mcp_server.py --tools 500 --no-fixed`, stdio) exposes
500 tools named and documented like a GitHub/Stripe/cloud catalog (three parameters each, with
descriptions). The registry loads them beside the seven built-ins, and this script measures the
catalog part of the system prompt three ways, all in this run:

- `compact`: what the prompt really carries (names and one-liners, servers folded to fit the
  budget, full signatures on demand through `describe_skills(...)`);
- `one_line_per_tool`: the same without folding (what the budget prevents);
- `full_signatures`: every skill as a Python signature with its docstring (the baseline).

Then the same with 5 servers of 100 tools each, and one agent run per style through the fake
LLM (real SDK, kernel, bridge and MCP server): the system prompt the fake received, and whether a
program found and called a tool it was not shown.

Tokens: tiktoken is not installed, so two documented counts are given: `est_tokens` = chars / 4
rounded up (`skills.prompt.estimate_tokens`, the figure the 2,000 budget is checked with) and
`words` = whitespace-separated words (the fake LLM's own token count, tests/fake_llm/replies.py).

    .venv/bin/python bench/catalog.py        # writes bench/results/catalog.json
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agent.config import load_settings  # noqa: E402
from agent.runtime import AgentRuntime  # noqa: E402
from agent.tasks import run_task  # noqa: E402
from skills import SkillRegistry, SkillsConfig  # noqa: E402
from skills.prompt import estimate_tokens, render_section  # noqa: E402
from tests.fake_llm import FakeLLM  # noqa: E402
from tests.fake_llm.replies import count_tokens  # noqa: E402

RESULTS = REPO / "bench" / "results" / "catalog.json"
SERVER = REPO / "tests" / "skills" / "mcp_server.py"
TOOLS = 500
BUDGET = 2000
UNBOUNDED = 10**9

# the program the fake "model" writes: find a tool it was not shown, read its signature, call it
PROGRAM = """I look for an invoice search tool, read its signature, then call it.

```python
listing = describe_skills("big__*invoice*")
print(listing.splitlines()[0])
print(describe_skills("big__search_invoice").splitlines()[0])
found = big__search_invoice("status:paid", limit=3)
final_answer(found["query"])
```"""


def size(text: str) -> dict[str, int]:
    return {"chars": len(text), "est_tokens": estimate_tokens(text), "words": count_tokens(text)}


def server_config(tools: int, offset: int = 0) -> dict[str, Any]:
    args = [str(SERVER), "--tools", str(tools), "--offset", str(offset), "--no-fixed"]
    return {"command": sys.executable, "args": args}


async def catalog_figures(servers: dict[str, int]) -> dict[str, Any]:
    """Sizes of the three renderings for the built-ins plus these servers (name -> tool count).

    Each server's tools are numbered on from the previous server's, so no two share a name.
    """
    offsets = [sum(list(servers.values())[:i]) for i in range(len(servers))]
    config = SkillsConfig(
        reload=False,
        catalog_token_budget=BUDGET,
        mcp_servers={
            name: server_config(n, offset)
            for (name, n), offset in zip(servers.items(), offsets, strict=True)
        },
    )
    registry = SkillRegistry(config)
    await registry.start()
    try:
        errors = registry.catalog().errors
        if errors:
            raise RuntimeError(f"MCP servers did not load: {errors}")
        skills = registry.select("*")
        compact = registry.prompt_section(skills)
        unfolded = render_section(skills, config.full_signatures_up_to, UNBOUNDED)
        full = render_section(skills, UNBOUNDED, UNBOUNDED)
        first = next(iter(servers))
        whole_server = registry.describe([f"{first}__*"])
        one_tool = registry.describe([next(s.name for s in skills if s.source == "mcp")])
        folded = [line for line in compact.splitlines() if "MCP tools" in line]
    finally:
        await registry.close()
    return {
        "servers": servers,
        "skills": len(skills),
        "mcp_tools": sum(1 for s in skills if s.source == "mcp"),
        "compact": size(compact),
        "one_line_per_tool": size(unfolded),
        "full_signatures": size(full),
        "full_over_compact": round(estimate_tokens(full) / estimate_tokens(compact), 1),
        "within_budget": estimate_tokens(compact) <= BUDGET,
        "folded_lines": folded,
        "on_demand": {
            f"describe_skills('{first}__*')": size(whole_server),
            "describe_skills(<one tool>)": size(one_tool),
        },
        "compact_text": compact,
    }


def _skills_part(system: str) -> str:
    """The catalog part of a system prompt: from its '## Skills' heading to the next heading."""
    start = system.index("## Skills")
    end = system.find("\n## ", start + 1)
    return system[start : end if end > 0 else len(system)]


async def agent_run(base: Path, fake: FakeLLM, style: str) -> dict[str, Any]:
    config = base / f"config-{style}"
    config.mkdir()
    skills: dict[str, Any] = {"reload": False, "catalog_token_budget": BUDGET}
    if style == "full_signatures":
        skills["full_signatures_up_to"] = UNBOUNDED
    (config / "skills.yaml").write_text(yaml.safe_dump(skills))
    (config / "mcp.yaml").write_text(yaml.safe_dump({"servers": {"big": server_config(TOOLS)}}))
    (config / "agents.yaml").write_text(
        yaml.safe_dump({"agents": {"master": {"description": "Benchmark agent.", "max_steps": 2}}})
    )
    settings = load_settings(
        env={
            "AGENT_CONFIG_DIR": str(config),
            "DEFAULT_LLM_PROVIDER": "openai-compatible",
            "DEFAULT_LLM_MODEL": "bench-model",
            "LLM_BASE_URL": fake.openai_base_url,
            "LLM_API_KEY": "bench",
            "NOTEBOOKS_DIR": str(base / "notebooks"),
            "WORKSPACE_DIR": str(base / f"workspace-{style}"),
            "KERNEL_POOL_SIZE": "1",
        },
        root=REPO,
        read_dotenv=False,
    )
    seen = len(fake.requests)
    fake.queue(PROGRAM)
    async with AgentRuntime(settings) as runtime:
        record = await run_task("How many paid invoices are there?", runtime=runtime)
    if record.status != "completed":
        raise RuntimeError(f"{style}: the run {record.status}: {record.error}")
    first = fake.requests[seen].json
    system = next(m["content"] for m in first["messages"] if m.get("role") == "system")
    return {
        "system_prompt": size(system),
        "catalog_part": size(_skills_part(system)),
        "answer": record.result,
        "skill_calls": [c.skill for c in record.skill_calls],
        "llm_calls": record.usage.llm_calls,
    }


async def main() -> dict[str, Any]:
    one = await catalog_figures({"big": TOOLS})
    five = await catalog_figures({f"s{i}": TOOLS // 5 for i in range(5)})
    with tempfile.TemporaryDirectory() as tmp, FakeLLM() as fake:
        os.chmod(tmp, 0o711)  # sandboxed kernels run as per-session uids and must reach it
        styles = ("compact", "full_signatures")
        runs = {style: await agent_run(Path(tmp), fake, style) for style in styles}
    compact_run, full_run = runs["compact"], runs["full_signatures"]
    summary = {
        "mcp_tools": one["mcp_tools"],
        "token_estimate": "chars/4 (est_tokens); whitespace words (the fake LLM's count)",
        "budget": BUDGET,
        "catalog_est_tokens": one["compact"]["est_tokens"],
        "full_signatures_est_tokens": one["full_signatures"]["est_tokens"],
        "full_over_compact": one["full_over_compact"],
        "five_servers_catalog_est_tokens": five["compact"]["est_tokens"],
        "five_servers_full_over_compact": five["full_over_compact"],
        "agent_system_prompt_est_tokens": {
            "compact": compact_run["system_prompt"]["est_tokens"],
            "full_signatures": full_run["system_prompt"]["est_tokens"],
        },
        "agent_found_and_called_unlisted_tool": compact_run["answer"] == "status:paid"
        and "big__search_invoice" in compact_run["skill_calls"],
        "same_answer_both_styles": compact_run["answer"] == full_run["answer"],
    }
    summary["meets_target"] = (
        one["within_budget"]
        and five["within_budget"]
        and compact_run["catalog_part"]["est_tokens"] <= BUDGET
        and summary["agent_found_and_called_unlisted_tool"]
        and summary["same_answer_both_styles"]
    )
    return {"summary": summary, "one_server": one, "five_servers": five, "agent_runs": runs}


if __name__ == "__main__":
    figures = asyncio.run(main())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures["summary"], indent=2))
    sys.exit(0 if figures["summary"]["meets_target"] else 1)
