"""The built-in skills against local fakes: SearXNG/Brave/Tavily, a page server, the fake LLM."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from openai import AsyncOpenAI

from skills import SkillContext, SkillRegistry, SkillsConfig
from skills.net import host_allowed, network_error
from tests.fake_llm.server import FakeLLM
from tests.skills.fake_web import FakeWeb, free_port


async def _registry(**config: object) -> SkillRegistry:
    registry = SkillRegistry(SkillsConfig(reload=False, **config))  # type: ignore[arg-type]
    await registry.start()
    return registry


# --- web_search ------------------------------------------------------------------------------


async def test_web_search_searxng(
    builtins: SkillRegistry, context: SkillContext, fake_web: FakeWeb
) -> None:
    call = await builtins.call("web_search", ["kernel stdin"], {"max_results": 3}, context)
    assert call.ok, call.error
    assert call.result == [
        {
            "title": f"Result {i} for kernel stdin",
            "url": f"https://example.org/{i}",
            "snippet": f"snippet {i}",
        }
        for i in range(3)
    ]
    seen = [r for r in fake_web.requests if r["path"] == "/search"][-1]
    assert seen["query"] == {"q": "kernel stdin", "format": "json"}


async def test_web_search_brave_and_tavily(context: SkillContext, fake_web: FakeWeb) -> None:
    brave = await _registry(
        web_search={"brave_api_key": "br-key", "brave_url": f"{fake_web.base}/brave"}
    )
    call = await brave.call("web_search", ["q"], {"max_results": 2}, context)
    assert call.ok and [h["title"] for h in call.result] == ["B0", "B1"]
    await brave.close()
    tavily = await _registry(
        web_search={"tavily_api_key": "tv-key", "tavily_url": f"{fake_web.base}/tavily"}
    )
    call = await tavily.call("web_search", ["q"], {"max_results": 4}, context)
    assert call.ok and len(call.result) == 4 and call.result[0]["snippet"] == "tav"
    await tavily.close()


async def test_web_search_not_configured_names_the_variables(context: SkillContext) -> None:
    registry = await _registry()
    call = await registry.call("web_search", ["q"], {}, context)
    assert call.error_type == "not_configured"
    for variable in ("SEARXNG_URL", "BRAVE_API_KEY", "TAVILY_API_KEY"):
        assert variable in (call.error or "")
    await registry.close()


async def test_web_search_network_failures_are_named(
    context: SkillContext, fake_web: FakeWeb
) -> None:
    refused = await _registry(web_search={"searxng_url": f"http://127.0.0.1:{free_port()}"})
    call = await refused.call("web_search", ["q"], {}, context)
    assert call.error_type == "network_refused" and "connection refused" in (call.error or "")
    await refused.close()
    # the fake answers /slow/search only after 3 s; SearXNG's path is appended to the base
    slow = await _registry(
        web_search={"searxng_url": f"{fake_web.base}/slow?s=3&", "timeout_s": 0.3}
    )
    call = await slow.call("web_search", ["q"], {}, context)
    assert call.error_type == "network_timeout" and "timed out" in (call.error or "")
    await slow.close()


async def test_web_search_backend_answers_badly(context: SkillContext, fake_web: FakeWeb) -> None:
    # e.g. a proxy's login page where SearXNG should be
    no_json = await _registry(web_search={"searxng_url": f"{fake_web.base}/not-json"})
    call = await no_json.call("web_search", ["q"], {}, context)
    assert call.error_type == "backend_error" and "not JSON" in (call.error or "")
    await no_json.close()
    bad_key = await _registry(
        web_search={"brave_api_key": "wrong", "brave_url": f"{fake_web.base}/brave"}
    )
    call = await bad_key.call("web_search", ["q"], {}, context)
    assert call.error == "web_search(): Brave Search answered HTTP 401"
    await bad_key.close()


async def test_web_search_json_format_refused(context: SkillContext, fake_web: FakeWeb) -> None:
    # a SearXNG with the JSON format off answers 403; the error says which setting to change
    off = await _registry(web_search={"searxng_url": f"{fake_web.base}/json-off"})
    call = await off.call("web_search", ["q"], {}, context)
    assert call.error_type == "backend_refused" and "search.formats" in (call.error or "")
    await off.close()


async def test_bad_web_search_arguments(builtins: SkillRegistry, context: SkillContext) -> None:
    empty = await builtins.call("web_search", ["  "], {}, context)
    assert empty.error == "web_search(): query is empty"
    zero = await builtins.call("web_search", ["q"], {"max_results": 0}, context)
    assert "max_results must be at least 1" in (zero.error or "")
    typed = await builtins.call("web_search", [["not", "a", "string"]], {}, context)
    assert typed.error_type == "bad_arguments" and "argument 'query'" in (typed.error or "")


DNS_PROBE = """
import asyncio, json, sys
from pathlib import Path
from skills import SkillContext, SkillRegistry, SkillsConfig

async def main():
    registry = SkillRegistry(SkillsConfig(
        reload=False,
        web_search={"searxng_url": "http://searx.invalid"},
        http_fetch_allow_hosts=["*.invalid"],
    ))
    await registry.start()
    context = SkillContext("dns", Path("/tmp"))
    calls = [
        await registry.call("web_search", ["q"], {}, context),
        await registry.call("http_fetch", ["http://pages.invalid/x"], {}, context),
    ]
    await registry.close()
    print(json.dumps([[c.error_type, c.error] for c in calls]))

asyncio.run(main())
"""


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is installed by make setup")
def test_dns_failure_is_named_for_real() -> None:
    # a network namespace with only loopback: the lookup really fails, and nothing leaves the host
    repo = Path(__file__).resolve().parents[2]
    command = ["bwrap", "--unshare-net", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    command += ["--chdir", str(repo), sys.executable, "-c", DNS_PROBE]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (search_type, search), (fetch_type, fetch) = json.loads(done.stdout)
    assert search_type == fetch_type == "network_dns"
    assert search.startswith("web_search(): SearXNG at http://searx.invalid: DNS lookup failed")
    assert fetch.startswith("http_fetch(): fetching http://pages.invalid/x: DNS lookup failed")


def test_dns_failure_is_named() -> None:
    # built the way httpx raises it: httpx.ConnectError from httpcore.ConnectError from gaierror
    try:
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as inner:
            raise httpx.ConnectError("[Errno -2] Name or service not known") from inner
    except httpx.ConnectError as exc:
        error = network_error(exc, "SearXNG at http://searx.invalid")
    assert error.code == "network_dns" and "DNS lookup failed" in str(error)


# --- http_fetch ------------------------------------------------------------------------------


async def test_http_fetch_turns_html_into_text(
    builtins: SkillRegistry, context: SkillContext, fake_web: FakeWeb
) -> None:
    call = await builtins.call("http_fetch", [f"{fake_web.base}/page.html"], {}, context)
    assert call.ok, call.error
    text = call.result
    assert text.startswith("Kernel notes\n\n")
    assert "The stdin channel carries" in text and "input requests" in text
    for hidden in ("secret", "color: red", "Home | About", "copyright", "<p>"):
        assert hidden not in text
    plain = await builtins.call("http_fetch", [f"{fake_web.base}/plain.txt"], {}, context)
    assert plain.result == "just text\nline two"


async def test_http_fetch_allow_list_and_redirects(
    builtins: SkillRegistry, context: SkillContext, fake_web: FakeWeb
) -> None:
    refused = await builtins.call("http_fetch", ["http://example.org/"], {}, context)
    assert refused.error_type == "host_not_allowed" and "http_fetch_allow_hosts" in (
        refused.error or ""
    )
    other_port = await builtins.call(
        "http_fetch", [f"http://127.0.0.1:{fake_web.port + 1}/"], {}, context
    )
    assert other_port.error_type == "host_not_allowed"
    hop = await builtins.call(
        "http_fetch", [f"{fake_web.base}/redirect?to=/plain.txt"], {}, context
    )
    assert hop.ok and hop.result == "just text\nline two"
    escape = await builtins.call(
        "http_fetch", [f"{fake_web.base}/redirect?to=http://example.org/x"], {}, context
    )
    assert escape.error_type == "host_not_allowed"
    scheme = await builtins.call("http_fetch", ["file:///etc/passwd"], {}, context)
    assert scheme.error_type == "bad_arguments"


async def test_http_fetch_caps_and_refusals(
    builtins: SkillRegistry, context: SkillContext, fake_web: FakeWeb
) -> None:
    big = await builtins.call(
        "http_fetch", [f"{fake_web.base}/big.html"], {"max_chars": 1000}, context
    )
    assert big.ok and "characters cut" in big.result and big.result.rstrip().endswith("THE END")
    assert len(big.result) < 1200
    missing = await builtins.call("http_fetch", [f"{fake_web.base}/missing"], {}, context)
    assert missing.error_type == "http_status" and "HTTP 404" in (missing.error or "")
    image = await builtins.call("http_fetch", [f"{fake_web.base}/image.png"], {}, context)
    assert image.error_type == "not_text" and "image/png" in (image.error or "")
    small = await _registry(
        http_fetch_allow_hosts=[f"127.0.0.1:{fake_web.port}"], http_fetch_max_bytes=4096
    )
    cut = await small.call("http_fetch", [f"{fake_web.base}/big.html"], {}, context)
    assert cut.ok and "body cut at 4096 bytes" in cut.result
    await small.close()


async def test_http_fetch_network_failures_are_named(
    context: SkillContext, fake_web: FakeWeb
) -> None:
    closed = free_port()
    registry = await _registry(
        http_fetch_allow_hosts=[f"127.0.0.1:{closed}", f"127.0.0.1:{fake_web.port}"],
        http_fetch_timeout_s=0.3,
    )
    refused = await registry.call("http_fetch", [f"http://127.0.0.1:{closed}/"], {}, context)
    assert refused.error_type == "network_refused", refused.error
    assert f"fetching http://127.0.0.1:{closed}/: connection refused" in (refused.error or "")
    slow = await registry.call("http_fetch", [f"{fake_web.base}/slow?s=3"], {}, context)
    assert slow.error_type == "network_timeout" and "timed out" in (slow.error or "")
    await registry.close()


def test_allow_list_patterns() -> None:
    assert host_allowed("https://docs.python.org/3/", ["docs.python.org"])
    assert host_allowed("https://en.wikipedia.org/wiki/X", ["*.wikipedia.org"])
    assert not host_allowed("https://wikipedia.org.evil.com/", ["*.wikipedia.org"])
    assert host_allowed("http://127.0.0.1:8080/a", ["127.0.0.1:8080"])
    assert not host_allowed("http://127.0.0.1:8081/a", ["127.0.0.1:8080"])
    assert not host_allowed("http://127.0.0.1/a", ["127.0.0.1:8080"])
    assert not host_allowed("https://example.org/", [])


# --- summarize -------------------------------------------------------------------------------

ARTICLE = (
    "Jupyter kernels run code for notebooks. A kernel talks to the host over ZeroMQ channels. "
    "The stdin channel lets a kernel ask the host for input. Skills use the stdin channel to call "
    "the host. Cats are unrelated to kernels."
)


async def test_summarize_uses_the_llm(
    builtins: SkillRegistry, workspace: Path, fake_llm: FakeLLM
) -> None:
    client = AsyncOpenAI(base_url=fake_llm.openai_base_url, api_key="test-key", max_retries=0)

    async def complete(prompt: str, max_tokens: int) -> str:
        reply = await client.chat.completions.create(
            model="fake", messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens
        )
        return reply.choices[0].message.content or ""

    fake_llm.queue("Kernels call the host through stdin.")
    context = SkillContext(session_id="s", workspace=workspace, llm=complete)
    call = await builtins.call("summarize", [ARTICLE], {"max_words": 20}, context)
    assert call.ok and call.result == "Kernels call the host through stdin."
    sent = fake_llm.requests[-1].json
    assert (
        "at most 20 words" in sent["messages"][0]["content"]
        and ARTICLE in sent["messages"][0]["content"]
    )
    assert sent["max_tokens"] == 20 * 2 + 64
    # nothing queued: the fake answers 500, and the skill falls back and says why
    failed = await builtins.call("summarize", [ARTICLE], {"max_words": 20}, context)
    assert failed.ok and failed.result.startswith("[extractive summary: the LLM call failed:")
    await client.close()


async def test_summarize_extractive_fallback(
    builtins: SkillRegistry, context: SkillContext
) -> None:
    call = await builtins.call("summarize", [ARTICLE], {"max_words": 25}, context)
    assert call.ok
    label = "[extractive summary: no LLM available] "
    assert call.result.startswith(label)
    body = call.result.removeprefix(label)
    assert 0 < len(body.split()) <= 25
    assert all(sentence in ARTICLE for sentence in body.split(". ") if sentence)
    assert "Cats" not in body
    empty = await builtins.call("summarize", ["   "], {}, context)
    assert empty.result == ""


# --- code_analysis ---------------------------------------------------------------------------

SOURCE = """import os
import json


class Store:
    def get(self, key, cache={}):
        try:
            return cache[key]
        except:
            return undefined_name


def branchy(x):
    if x > 1:
        return 1
    elif x > 0:
        return 2
    return 3
"""


async def test_code_analysis_python(builtins: SkillRegistry, context: SkillContext) -> None:
    call = await builtins.call("code_analysis", [SOURCE], {}, context)
    assert call.ok, call.error
    report = call.result
    assert report["valid"] and report["supported"]
    functions = {f["name"]: f for f in report["functions"]}
    assert functions["get"]["class"] == "Store" and functions["get"]["is_method"]
    assert functions["branchy"]["complexity"] == 3 and functions["branchy"]["rank"] == "A"
    assert report["classes"] == [{"name": "Store", "line": 5, "bases": [], "methods": ["get"]}]
    assert [i["module"] for i in report["imports"]] == ["os", "json"]
    kinds = {(i["line"], i["kind"]) for i in report["issues"]}
    assert {
        (1, "unused-import"),
        (2, "unused-import"),
        (6, "mutable-default"),
        (9, "bare-except"),
        (10, "undefined-name"),
    } <= kinds
    assert report["metrics"]["max_complexity"] == 3


async def test_code_analysis_syntax_error_and_other_language(
    builtins: SkillRegistry, context: SkillContext
) -> None:
    broken = await builtins.call("code_analysis", ["def f(:\n    pass\n"], {}, context)
    assert broken.ok and not broken.result["valid"]
    assert broken.result["syntax_errors"][0]["line"] == 1
    js = await builtins.call(
        "code_analysis", ["let x = 1;\n\nconsole.log(x)"], {"language": "javascript"}, context
    )
    assert js.ok and js.result["supported"] is False
    assert "only Python is supported" in js.result["message"] and js.result["metrics"]["lines"] == 3


# --- files -----------------------------------------------------------------------------------


async def test_file_skills_round_trip(
    builtins: SkillRegistry, context: SkillContext, workspace: Path
) -> None:
    wrote = await builtins.call("write_file", ["notes/a.txt", "hello\n"], {}, context)
    assert wrote.ok and wrote.result == {"path": "notes/a.txt", "bytes": 6, "appended": False}
    await builtins.call("write_file", ["notes/a.txt", "more\n"], {"append": True}, context)
    assert (workspace / "notes" / "a.txt").read_text() == "hello\nmore\n"
    read = await builtins.call("read_file", ["notes/a.txt"], {}, context)
    assert read.result == "hello\nmore\n"
    listed = await builtins.call("list_files", [], {"recursive": True}, context)
    assert listed.result == [
        {"path": "notes", "type": "dir", "size": 0},
        {"path": "notes/a.txt", "type": "file", "size": 11},
    ]
    flat = await builtins.call("list_files", ["notes"], {}, context)
    assert [e["path"] for e in flat.result] == ["notes/a.txt"]
    missing = await builtins.call("read_file", ["nope.txt"], {}, context)
    assert missing.error_type == "not_found" and "list_files()" in (missing.error or "")
    (workspace / "blob.bin").write_bytes(b"\xff\xfe\x00")
    binary = await builtins.call("read_file", ["blob.bin"], {}, context)
    assert binary.error_type == "not_text"


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../outside.txt", "notes/../../x", "~/x", "a\\..\\..\\x"]
)
@pytest.mark.parametrize("skill", ["read_file", "write_file", "list_files"])
async def test_workspace_escapes_are_refused(
    builtins: SkillRegistry, context: SkillContext, skill: str, path: str
) -> None:
    args = [path, "x"] if skill == "write_file" else [path]
    call = await builtins.call(skill, args, {}, context)
    assert not call.ok and call.error_type == "outside_workspace", call.error


async def test_symlink_escapes_are_refused(
    builtins: SkillRegistry, context: SkillContext, workspace: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    os.symlink(outside, workspace / "link-dir")
    os.symlink(outside / "secret.txt", workspace / "link-file")
    for skill, args in [
        ("read_file", ["link-file"]),
        ("read_file", ["link-dir/secret.txt"]),
        ("write_file", ["link-dir/new.txt", "x"]),
        ("write_file", ["link-file", "x"]),
        ("list_files", ["link-dir"]),
    ]:
        call = await builtins.call(skill, args, {}, context)
        assert call.error_type == "outside_workspace", (skill, args, call.error)
    assert (outside / "secret.txt").read_text() == "secret" and not (outside / "new.txt").exists()
    listed = await builtins.call("list_files", [], {"recursive": True}, context)
    assert {e["path"]: e["type"] for e in listed.result} == {
        "link-dir": "symlink",
        "link-file": "symlink",
    }
