"""Screenshots of the web chat with the real bot, at phone (390×844) and desktop (1280×900) size.

Starts a real Rasa + action server (tests/stack.py, free loopback ports, a throw-away SQLite with the sample roster)
and the web app on a free port, drives headless chromium (Playwright) through the conversations a citizen has, and
writes PNGs to reports/screenshots/. It also checks what the pictures must show and exits non-zero when they don't:
the final wage answer's outcome (现在就做 … 就近办理) lies within the first phone screen without scrolling.

    .venv/bin/python scripts/screenshots.py [MODEL]    # default models/current.tar.gz; needs /usr/bin/chromium
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import tests.stack as stack  # noqa: E402 - the same stack the tests start
from tests.stack import free_port, running_cluster  # noqa: E402

OUT = ROOT / "reports" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}

# How a citizen answers each question (matched on the question's words): tap a button or type. A construction
# worker whose contractor ran off, no contract, with an IOU; then the legal-aid check with 「都不是」.
WAGE = (("tap", "我要讨薪"), {"欠钱的是谁": ("type", "包工头老李"), "欠了多少钱": ("type", "三万五"),
                               "几个人": ("type", "12个人"), "几个月": ("type", "半年"),
                               "进城务工": ("tap", "是"), "工地": ("tap", "是，工地"),
                               "不干了吗": ("tap", "是，不干了"), "劳动合同": ("tap", "没签"),
                               "证据": ("tap", "欠条"), "哪个街道": ("tap", "沿江（原水上）"),
                               "手机号吗": ("tap", "不留")}, "现在就做")
AID = (("tap", "法律援助"), {"是什么事": ("tap", "讨要工资"), "进城务工": ("tap", "不是"),
                             "哪种情况": ("tap", "都不是"), "每月收入": ("type", "两千"),
                             "几口人": ("type", "4口人"), "值钱的财产": ("tap", "没有"),
                             "哪个街道": ("tap", "沿江（原水上）")}, "结论")


def start_web(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(Path(env["HOTLINE_VAR_DIR"]) / "web.log", "w")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "uvicorn"), "bot.app:app", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("web app did not start")


def answer(page: Any, how: str, what: str) -> None:
    """Tap the newest button titled `what` (or a quick chip), or type `what` and send it; wait for the answer."""
    before = page.locator(".msg.bot").count()
    if how == "tap":
        page.locator(f"button.chip:not([disabled]):text-is('{what}')").last.click()
    else:
        page.fill("#input", what)
        page.click("#send")
    # Locator waits, not wait_for_function: the page's CSP (script-src 'self') forbids eval.
    page.locator(".msg.bot").nth(before).wait_for(timeout=120_000)
    page.locator("#typing").wait_for(state="hidden", timeout=120_000)
    page.wait_for_timeout(300)


def drive(page: Any, script: tuple[Any, ...], limit: int = 20) -> bool:
    """Start with the opening move, then answer each question by its words until `done` shows."""
    opening, answers, done = script
    answer(page, *opening)
    for _ in range(limit):
        if page.locator(".msg.bot", has_text=done).count():
            return True
        question = page.locator(".msg.bot").last.inner_text()
        move = next((a for words, a in answers.items() if words in question), None)
        if move is None:
            live = page.locator("button.chip:not([disabled])")
            move = ("tap", live.last.inner_text()) if live.count() else ("type", "跳过")
        answer(page, *move)
    return page.locator(".msg.bot", has_text=done).count() > 0


def conversation(browser: Any, url: str, size: dict[str, Any], script: tuple[Any, ...], name: str) -> Any:
    context = browser.new_context(locale="zh-CN", **size)
    page = context.new_page()
    page.goto(url + "/")
    if not drive(page, script):
        print(f"{name}: the conversation did not reach {script[2]!r}")
    # The view as the citizen has it after the last answer (scrolled by the page itself, not by this script).
    page.screenshot(path=str(OUT / f"{name}.png"))
    return page


def main() -> int:
    from playwright.sync_api import sync_playwright

    if len(sys.argv) > 1:  # another model file (e.g. while models/current.tar.gz is being trained)
        stack.MODEL = Path(sys.argv[1]).resolve()

    OUT.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="shots-") as tmp_s:
        tmp = Path(tmp_s)
        db = f"sqlite:///{tmp / 'shots.db'}"
        env = {**os.environ, "HOTLINE_DATABASE_URL": db, "HOTLINE_VAR_DIR": str(tmp / "var")}
        (tmp / "var").mkdir()
        hotline = str(ROOT / ".venv" / "bin" / "hotline")
        subprocess.run([hotline, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([hotline, "directory", "import", str(ROOT / "data" / "directory_sample.csv")], env=env,
                       check=True, capture_output=True)
        with running_cluster(tmp, db, rasa_processes=1, extra_env={"HOTLINE_VAR_DIR": str(tmp / "var")}) as c:
            web_env = {**env, "RASA_URLS": c.stack.rasa_url, "HOTLINE_RASA_TOKEN": c.stack.rasa_token}
            web, url = start_web(web_env)
            try:
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                    page = conversation(browser, url, PHONE, WAGE, "wage_answer_phone")
                    short = page.locator(".msg.bot", has_text="现在就做").last
                    box, log = short.bounding_box(), page.locator("#log").bounding_box()
                    if not box or box["y"] < log["y"] or box["y"] + box["height"] > log["y"] + log["height"]:
                        problems.append(f"wage outcome not within the first phone screen: {box} in {log}")
                    page.locator(".msg.folded summary").last.click()
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(OUT / "wage_details_open_phone.png"))
                    conversation(browser, url, DESKTOP, WAGE, "wage_answer_desktop")
                    page = conversation(browser, url, PHONE, AID, "legal_aid_none_of_these_phone")
                    if page.locator(".msg.bot", has_text="结论").count() == 0:
                        problems.append("legal aid path 都不是 ended without a verdict")
                    page = conversation(browser, url, PHONE, (("type", "<img src=x onerror=alert(1)>"), {}, ""),
                                        "markup_first_phone")
                    if page.locator("#log img").count():
                        problems.append("markup rendered as an element")
                    # A reload keeps the transcript.
                    page = conversation(browser, url, PHONE, (("tap", "找法律顾问"), {}, ""), "before_reload_phone")
                    page.reload()
                    page.wait_for_timeout(800)  # no second picture: it was the first one again, pixel for pixel
                    if page.locator(".msg.me").count() != 1:
                        problems.append("reload lost the transcript")
                    browser.close()
            finally:
                web.terminate()
                web.wait(timeout=15)
    for line in problems:
        print("PROBLEM:", line)
    print("screenshots in", OUT.relative_to(ROOT), ":", ", ".join(sorted(p.name for p in OUT.glob("*.png"))))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
