"""The layering rules of docs/architecture.md, checked on the source so a new cog can't break them.

- Cogs call services (`self.bot.<service>.<method>`): no repository, no `bot.storage` import, no private
  attribute of another object, no scheduler, no job registration, no SQL.
- Services keep their repositories private (`self._x = XRepo(db)`), so nothing outside can reach them.
- Only `bot/storage` holds SQL.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COGS = sorted((ROOT / "cogs").glob("*.py"))
BOT = sorted(p for p in (ROOT / "bot").rglob("*.py") if "sandbox" not in p.parts)
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.I | re.S)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def cog_violations(source: str) -> list[str]:
    """Every place a cog's source reaches past the services."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bot.storage"):
            found.append(f"line {node.lineno}: imports {node.module}")
        if isinstance(node, ast.Import) and any(a.name.startswith("bot.storage") for a in node.names):
            found.append(f"line {node.lineno}: imports bot.storage")
        if isinstance(node, ast.Attribute):
            private = node.attr.startswith("_") and not node.attr.startswith("__")
            on_self = isinstance(node.value, ast.Name) and node.value.id == "self"
            if private and not on_self:
                found.append(f"line {node.lineno}: private attribute .{node.attr}")
            if node.attr in {"repo", "scheduler", "db"} or node.attr.endswith("_repo"):
                found.append(f"line {node.lineno}: .{node.attr} (call a service method instead)")
            if node.attr == "register":
                found.append(f"line {node.lineno}: registers something (services own their jobs)")
        if isinstance(node, ast.Name) and node.id.endswith("Repo"):
            found.append(f"line {node.lineno}: uses {node.id}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append(f"line {node.lineno}: SQL")
    return found


@pytest.mark.parametrize("path", COGS, ids=lambda p: p.name)
def test_cogs_only_call_services(path: Path) -> None:
    assert cog_violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "from bot.storage.feeds import FeedsRepo",
        "import bot.storage.jobs",
        "async def f(self):\n    await self.bot.feeds.repo.for_guild(1)",
        "async def f(self):\n    await self.bot.feeds._repo.for_guild(1)",
        "async def f(self):\n    self.bot.scheduler.register('k', f)",
        "async def f(self):\n    await self.bot.db.fetchall('x')",
        "x = ProgressRepo(db)",
        "Q = 'SELECT id FROM feeds WHERE guild_id = ?'",
    ],
)
def test_the_cog_rule_catches_each_kind_of_reach(source: str) -> None:
    assert cog_violations(source), source


@pytest.mark.parametrize("path", BOT, ids=lambda p: str(p.relative_to(ROOT)))
def test_services_keep_repositories_private(path: Path) -> None:
    public = []
    for node in ast.walk(_tree(path)):
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
            continue
        func = node.value.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if not name.endswith("Repo"):
            continue
        for target in node.targets:
            if isinstance(target, ast.Attribute) and not target.attr.startswith("_"):
                public.append(f"line {node.lineno}: self.{target.attr} = {name}(…)")
    assert public == []


@pytest.mark.parametrize("path", [p for p in BOT if "storage" not in p.parts], ids=lambda p: str(p.relative_to(ROOT)))
def test_sql_lives_only_in_storage(path: Path) -> None:
    strings = [
        n.lineno
        for n in ast.walk(_tree(path))
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and SQL.search(n.value)
    ]
    assert strings == []


def test_every_cog_declares_its_help_section() -> None:
    for path in COGS:
        tree = _tree(path)
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            bases = {ast.unparse(b) for b in cls.bases}
            if bases & {"commands.Cog", "commands.GroupCog"}:
                declared = {
                    t.id for n in cls.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
                }
                assert "help_section" in declared, f"{path.name}: {cls.name} declares no help_section"
