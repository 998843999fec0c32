"""The pure logic of the web chat and the console (bot/static/text.js) under node's own test runner: phone numbers to
call, 【详细】 folding, waits, the queue's order, facts shown. `.ci/run` installs nodejs; without it this skips."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _node_major() -> int:
    """node's major version, 0 without node (`node --test` needs 18 or later)."""
    if shutil.which("node") is None:
        return 0
    out = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30).stdout
    found = re.match(r"v(\d+)", out)
    return int(found.group(1)) if found else 0


@pytest.mark.skipif(_node_major() < 18, reason="needs node 18+ (apt-get install nodejs)")
def test_text_js_under_node() -> None:
    result = subprocess.run(["node", "--test", "tests/js/"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    said = result.stdout + result.stderr
    assert result.returncode == 0, said
    assert re.search(r"\bpass 7\b", said) and re.search(r"\bfail 0\b", said), said


def test_both_pages_load_the_text_logic_before_their_scripts() -> None:
    for page, script in (("index.html", "chat.js"), ("console.html", "console.js")):
        html = (ROOT / "bot" / "static" / page).read_text(encoding="utf-8")
        assert 0 <= html.index("/static/text.js") < html.index(f"/static/{script}"), page
