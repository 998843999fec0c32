"""The README's layout table and docs/DESIGN.md's layout block match the tree: every path they name exists, and every
module of the core, the doors and the actions is named in one of them (a new module without a line fails here)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DESIGN = (ROOT / "docs" / "DESIGN.md").read_text(encoding="utf-8")


def _layout_table() -> str:
    """README's `| path | holds |` table under Architecture."""
    start = README.index("| path | holds |")
    return README[start:README.index("\n\n", start)]


def _design_layout() -> str:
    start = DESIGN.index("## Layout")
    return DESIGN[start:DESIGN.index("```", DESIGN.index("```", start) + 3)]


def _named_paths() -> list[str]:
    """Paths in the first column of README's table (backticked, with a slash or a dot)."""
    paths = []
    for row in _layout_table().splitlines()[2:]:
        first = row.split("|")[1]
        paths += [p for p in re.findall(r"`([^`]+)`", first) if "/" in p or "." in p]
    return paths


def test_every_path_in_the_readme_table_exists() -> None:
    paths = _named_paths()
    assert len(paths) >= 10
    missing = [p for p in paths if not (ROOT / p.rstrip("/")).exists()]
    assert not missing, f"README's layout table names paths that are not in the tree: {missing}"


def _modules() -> list[Path]:
    found = []
    for package in ("hotline", "bot", "actions", "rasa_runtime/hotline_rasa", "nlu/hotline_nlu"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__init__.py" or "migrations" in path.parts:
                continue
            found.append(path.relative_to(ROOT))
    return found


@pytest.mark.parametrize("module", _modules(), ids=str)
def test_every_module_is_named_in_the_readme_or_design(module: Path) -> None:
    # Named as its file (`repository.py`, `store/consultations.py`) or its dotted path (`hotline.clock`).
    text = README + DESIGN
    dotted = ".".join(module.with_suffix("").parts[-2:])
    assert module.name in text or module.stem + "/" in text or dotted in text, (
        f"{module} is not named in README.md's layout table or docs/DESIGN.md: say what it holds")


def test_every_file_in_the_design_layout_exists() -> None:
    block = _design_layout()
    # Lines like "    store/models.py db.py   ..." name files relative to the package heading above them.
    names = set(re.findall(r"\b([a-z_]+\.py)\b", block))
    everywhere = {p.name for p in ROOT.rglob("*.py") if ".venv" not in p.parts}
    missing = sorted(n for n in names if n not in everywhere)
    assert not missing, f"docs/DESIGN.md's layout names files that are not in the tree: {missing}"
