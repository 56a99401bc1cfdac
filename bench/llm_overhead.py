"""LLM layer overhead: provider.complete() against the bare SDK call, on the fake LLM server.

Both sides send the same request to the same local server (Anthropic and OpenAI wire formats,
whole and streamed); the figure is the ratio of medians, layer / bare SDK, measured in this script.
Run: .venv/bin/python bench/llm_overhead.py [--runs 200]  ->  bench/results/llm_overhead.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import anthropic  # noqa: E402
import openai  # noqa: E402

from agent.llm import LLMProviders, LLMSettings, Message, ProviderConfig  # noqa: E402
from tests.fake_llm import FakeLLM  # noqa: E402

REPLY = " ".join(f"word{i}" for i in range(60))
PROMPT = "Write a short program that searches the web and summarises the top result."


async def median_ms(call: Callable[[], Awaitable[Any]], runs: int) -> float:
    for _ in range(5):  # warm the connection pools
        await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def bare_anthropic(client: anthropic.AsyncAnthropic, stream: bool) -> None:
    request: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": PROMPT}],
    }
    if not stream:
        await client.messages.create(**request)
        return
    async with client.messages.stream(**request) as events:
        async for _ in events.text_stream:
            pass
        await events.get_final_message()


async def bare_openai(client: openai.AsyncOpenAI, stream: bool) -> None:
    request: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "max_completion_tokens": 256,
        "messages": [{"role": "user", "content": PROMPT}],
    }
    if not stream:
        await client.chat.completions.create(**request)
        return
    chunks = await client.chat.completions.create(
        **request, stream=True, stream_options={"include_usage": True}
    )
    async with chunks:
        async for _ in chunks:
            pass


async def main(runs: int) -> dict[str, Any]:
    results: dict[str, Any] = {"runs": runs, "reply_words": 60, "cases": {}}
    with FakeLLM() as fake:
        fake.responder = lambda _request: REPLY
        configs = {
            "anthropic": ProviderConfig(
                type="anthropic",
                base_url=fake.anthropic_base_url,
                api_key="k",
                max_retries=0,
                max_tokens=256,
            ),
            "openai": ProviderConfig(
                type="openai",
                base_url=fake.openai_base_url,
                api_key="k",
                max_retries=0,
                max_tokens=256,
            ),
        }
        providers = LLMProviders(LLMSettings(default="anthropic", providers=configs))
        bare_a = anthropic.AsyncAnthropic(
            api_key="k", base_url=fake.anthropic_base_url, max_retries=0
        )
        bare_o = openai.AsyncOpenAI(api_key="k", base_url=fake.openai_base_url, max_retries=0)
        messages = [Message("user", PROMPT)]
        for wire in ("anthropic", "openai"):
            provider = providers.get(wire)
            for stream in (False, True):
                on_delta = (lambda _text: None) if stream else None

                layer = partial(provider.complete, messages, on_delta=on_delta)
                if wire == "anthropic":
                    bare = partial(bare_anthropic, bare_a, stream)
                else:
                    bare = partial(bare_openai, bare_o, stream)
                baseline = await median_ms(bare, runs)
                ours = await median_ms(layer, runs)
                name = f"{wire}-{'streamed' if stream else 'whole'}"
                results["cases"][name] = {
                    "bare_sdk_p50_ms": round(baseline, 3),
                    "layer_p50_ms": round(ours, 3),
                    "ratio": round(ours / baseline, 3),
                }
                print(
                    f"{name:20s} bare {baseline:7.2f} ms  layer {ours:7.2f} ms  ratio {ours / baseline:.3f}"
                )
        await providers.aclose()
        await bare_a.close()
        await bare_o.close()
    results["max_ratio"] = max(c["ratio"] for c in results["cases"].values())
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    figures = asyncio.run(main(args.runs))
    out = ROOT / "bench" / "results" / "llm_overhead.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"max ratio {figures['max_ratio']}; written to {out.relative_to(ROOT)}")
