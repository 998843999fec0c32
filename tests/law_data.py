"""A copy of the law data (hotline/law/data) with edits, read in place of the real one for one test: a test that
changes a record shows that every sentence quoting it follows."""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline.law import params

Edit = Callable[[dict[str, Any]], None]


def use_law_data(monkeypatch: pytest.MonkeyPatch, folder: Path, edits: dict[str, Edit]) -> None:
    """Copy the data files to `folder`, let each edit change its file's parameters (the parsed YAML of
    `<stem>.yaml`), and make hotline.law.params read the copy for the rest of the test."""
    shutil.copytree(params.DATA_DIR, folder, dirs_exist_ok=True)
    for stem, edit in edits.items():
        path = folder / f"{stem}.yaml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        edit(doc)
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    loaded = params._load(folder)
    monkeypatch.setattr(params, "_load", lambda data_dir=None: loaded)


def setting(parameter: str, **changes: Any) -> Edit:
    """An edit that changes keys of one single-valued parameter: setting("art33", verified=False)."""
    def edit(doc: dict[str, Any]) -> None:
        doc[parameter].update(changes)
    return edit
