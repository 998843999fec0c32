"""The store is where the SQL is: every statement that writes the project's database lives in hotline/store/; outside
it only the statistics read with their own queries (read-only constructs), the CLI asks whether the schema exists and
the health check sends SELECT 1. Read from the source (AST), so a new query in a door fails here."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hotline", "bot", "actions")
WRITES = {"insert", "update", "delete", "merge"}
# Outside the store, the names a module may import from `sqlalchemy` itself (sqlalchemy.orm.Session and
# sqlalchemy.exc are types and errors, allowed everywhere).
READERS: dict[str, set[str]] = {
    "hotline/stats.py": {"ColumnElement", "and_", "func", "null", "select"},
    "hotline/export.py": {"ColumnElement", "func", "select"},
    "hotline/advisor_report.py": {"extract", "func", "select"},
    "hotline/cli_store.py": {"inspect"},  # "run `hotline db upgrade` first" when the tables are missing
    "bot/api.py": {"text"},  # /healthz: SELECT 1
}


def outside_the_store() -> list[Path]:
    return [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))
            if "store" not in p.relative_to(ROOT).parts[:2]]


def test_only_the_store_and_the_statistics_build_queries() -> None:
    found: dict[str, set[str]] = {}
    for path in outside_the_store():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy":
                found.setdefault(path.relative_to(ROOT).as_posix(), set()).update(a.name for a in node.names)
            elif isinstance(node, ast.Import) and any(a.name == "sqlalchemy" for a in node.names):
                found.setdefault(path.relative_to(ROOT).as_posix(), set()).add("*")
    assert {name: names for name, names in found.items() if not names <= READERS.get(name, set())} == {}
    assert not any(names & WRITES for names in found.values())


def test_no_session_writes_outside_the_store() -> None:
    """No session.add / delete / merge / bulk insert outside hotline/store/ (an object the store returned may still
    have a field set by the door that owns the moment: a handoff's acknowledged, its reply address)."""
    calls = []
    for path in outside_the_store():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"add", "add_all", "delete", "merge", "bulk_save_objects", "exec_driver_sql"}
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in {"session", "s", "db"}):
                calls.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.value.id}.{node.func.attr}")
    assert calls == []


def test_the_store_has_no_catch_all_module() -> None:
    """One module per concern: the old repository.py is gone and nothing imports it."""
    assert not (ROOT / "hotline" / "store" / "repository.py").exists()
    for path in [*outside_the_store(), *sorted((ROOT / "tests").glob("*.py")), *sorted((ROOT / "scripts").glob("*.py"))]:
        if path.name == Path(__file__).name:
            continue
        assert "store.repository" not in path.read_text(encoding="utf-8"), path
        assert "import repository" not in path.read_text(encoding="utf-8"), path
