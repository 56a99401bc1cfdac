"""The page in headless Chromium (Debian's, never a downloaded one) through Playwright: sign in,
chat a task and watch the program step arrive before the answer, download the notebook, attach
a CSV the program sums; every request the page makes stays on 127.0.0.1; a screenshot is kept."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import nbformat
import pytest

from tests.fake_llm import FakeLLM
from tests.ui.conftest import KEY, UIServer, fence

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 60_000
# the program waits for a file the test writes once it has seen the step: no race either way
GATED = (
    "import os, time\n"
    "while not os.path.exists('go'):\n"
    "    time.sleep(0.05)\n"
    "total = 6 * 7\n"
    "print('released')\n"
    "final_answer(f\"{'after the step'.upper()}: total {total}\")"
)
SUM_CSV = (
    "import csv, io\n"
    "rows = list(csv.DictReader(io.StringIO(read_file('sales.csv'))))\n"
    "amount = sum(int(r['amount']) for r in rows)\n"
    "final_answer(f'the sum is {amount}')"
)
FOREVER = "import time\nwhile True:\n    time.sleep(0.05)"


async def kernel_variables(server: UIServer, session_id: str) -> list[dict]:
    """The session's live kernel variables, from REST ([] once its kernel is released)."""
    async with httpx.AsyncClient(headers={"x-api-key": KEY}, timeout=30) as api:
        answer = await api.get(f"{server.url}/agent/sessions/{session_id}")
    answer.raise_for_status()
    return list(answer.json()["variables"])


async def test_chat_in_a_real_browser(
    ui_server: UIServer, fake_llm: FakeLLM, artifacts: Path, tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make setup installs it)")
    from playwright.async_api import async_playwright, expect

    requests: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        context = await browser.new_context(
            accept_downloads=True, viewport={"width": 1400, "height": 1000}
        )
        context.on("request", lambda request: requests.append(request.url))
        page = await context.new_page()
        try:
            await page.goto(f"{ui_server.url}/")
            assert page.url.endswith("/login")  # keys are on: the page asks for one
            await page.fill("#key", KEY)
            await page.click("button[type=submit]")
            task = page.locator("#task textarea")
            await expect(task).to_be_visible(timeout=WAIT_MS)
            session = page.locator("#session code")
            await expect(session).to_have_text(re.compile(r"^ses_"), timeout=WAIT_MS)
            session_id = (await session.inner_text()).strip()
            chat = page.locator("#chat")

            # 1. a task: the program step shows while the program runs, the answer after
            fake_llm.queue(fence(GATED, plan="I wait for the go file, then answer."))
            await task.fill("wait for go, then answer")
            await task.press("Enter")
            await expect(chat.get_by_text("Program 1")).to_be_visible(timeout=WAIT_MS)
            await expect(chat.get_by_text("I wait for the go file")).to_be_visible()
            answer = chat.get_by_text("AFTER THE STEP: total 42", exact=True)
            assert await answer.count() == 0  # not answered yet: the program waits for us
            (ui_server.workspace(session_id) / "go").write_text("")
            await expect(answer).to_be_visible(timeout=WAIT_MS)
            await expect(
                page.locator("#variables").get_by_role("gridcell", name="total")
            ).to_be_visible()

            # 2. the run's notebook downloads
            button = page.locator("#notebook")
            await expect(button).to_be_visible(timeout=WAIT_MS)
            async with page.expect_download() as started:
                await button.click()
            download = await started.value
            saved = tmp_path / "run.ipynb"
            await download.save_as(saved)
            notebook = nbformat.reads(saved.read_text(), as_version=4)
            nbformat.validate(notebook)
            assert any("os.path.exists('go')" in cell.source for cell in notebook.cells)

            # 3. a CSV attached in the chat, summed by the program in the workspace
            data = tmp_path / "sales.csv"
            data.write_text("region,amount\nnorth,10\nsouth,32\neast,58\n")
            fake_llm.queue(fence(SUM_CSV, plan="I read sales.csv and add the amounts."))
            await page.locator("#task input[type=file]").set_input_files(str(data))
            thumbnail = page.locator("#task [aria-label='File thumbnail']")
            await expect(thumbnail).to_be_visible(timeout=WAIT_MS)  # uploaded to the server
            await task.fill("add up the amounts in the attached CSV")
            await task.press("Enter")
            summed = chat.get_by_text("the sum is 100", exact=True)
            await expect(summed).to_be_visible(timeout=WAIT_MS)
            await expect(chat.get_by_text("attached: sales.csv")).to_be_visible()
            assert "sales.csv" in fake_llm.requests[-1].last_user_text()
            await expect(
                page.locator("#files").get_by_role("cell", name="sales.csv")
            ).to_be_visible()

            await chat.get_by_text("Program 1").last.click()  # open the step: code and call
            await expect(chat.get_by_text('read_file("sales.csv")', exact=True)).to_be_visible()
            await summed.scroll_into_view_if_needed()
            await page.wait_for_timeout(800)  # the accordion's opening animation, for the picture
            await page.screenshot(path=str(artifacts / "ui.png"), full_page=True)

            # 4. stop: the square in the message box cancels a program that never ends
            fake_llm.queue(fence(FOREVER, plan="This never ends."))
            await task.fill("run forever")
            await task.press("Enter")
            await expect(chat.get_by_text("This never ends.")).to_be_visible(timeout=WAIT_MS)
            await page.locator("#task button[aria-label=Stop]").click()
            stopped = chat.get_by_text("Stopped: the task was cancelled.")
            await expect(stopped).to_be_visible(timeout=WAIT_MS)

            # 5. the tab goes away: its kernel is released (Gradio's unload)
            assert await kernel_variables(ui_server, session_id)  # still live
            await page.close()
            for _ in range(300):  # the heartbeat ends, then the unload handler runs: ≤ 60 s
                if not await kernel_variables(ui_server, session_id):
                    break
                await asyncio.sleep(0.2)
            assert await kernel_variables(ui_server, session_id) == []
        finally:
            await context.close()
            await browser.close()

    outside = [
        url
        for url in requests
        if urlsplit(url).scheme in ("http", "https", "ws", "wss")
        and urlsplit(url).hostname != "127.0.0.1"
    ]
    assert requests and outside == []
    (artifacts / "requests.json").write_text(json.dumps(requests, indent=1))
