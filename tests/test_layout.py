"""The house rules of the layout, checked on the source (README "How it works").

- `bot/core/` imports nothing from discord and no project module outside `bot/core/`;
- SQL text appears in `bot/` and `commands/` only under `bot/core/store/`;
- no import cycle among the project's modules, and no project import inside a function;
- no module in `bot/` or `commands/` over 500 lines unless its docstring says why.

Each rule is a function over source text or an import graph, and each has a test
that feeds it a violation, so a rule that silently stopped looking would fail here.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.helpers import PROJECT_ROOT

PACKAGES = ("bot", "commands")
MAX_LINES = 500
# A module over MAX_LINES says why in its docstring, with these words.
LONG_REASON = "Longer than 500 lines because"
# SQL as it is written in this project: a keyword that starts a statement, then
# the word that must follow it. Prose ("select a topic") does not match.
SQL = re.compile(
    r"\b(SELECT\s+[\w*(]|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM"
    r"|CREATE\s+(TABLE|INDEX|VIRTUAL|UNIQUE)|ALTER\s+TABLE|PRAGMA\s+\w+|BEGIN\s+IMMEDIATE)"
)


def module_name(path: Path, root: Path = PROJECT_ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = PROJECT_ROOT) -> dict[str, Path]:
    return {
        module_name(p, root): p
        for pkg in PACKAGES
        for p in sorted((root / pkg).rglob("*.py"))
        if "__pycache__" not in p.parts
    }


def imports(source: str, module: str) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for every import statement."""
    tree = ast.parse(source)
    in_function: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            in_function.update(id(n) for n in ast.walk(node) if n is not node)
    for node in ast.walk(tree):
        nested = id(node) in in_function
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, nested
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: -node.level]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno, nested
            for alias in node.names:
                # `from bot.core import store` imports the module bot.core.store.
                yield f"{base}.{alias.name}", node.lineno, nested


def core_violations(source: str, module: str) -> list[str]:
    """Imports that a module under bot/core/ must not make."""
    bad = []
    for name, line, _ in imports(source, module):
        top = name.split(".")[0]
        outside = top == "bot" and name != "bot" and not name.startswith("bot.core")
        if top in ("discord", "commands") or outside:
            bad.append(f"{module}:{line} imports {name}")
    return bad


def sql_violations(source: str, module: str) -> list[str]:
    """String literals holding SQL statements."""
    return [
        f"{module}:{node.lineno} holds SQL: {node.value.strip()[:60]!r}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value)
    ]


def nested_project_imports(source: str, module: str) -> list[str]:
    return [
        f"{module}:{line} imports {name} inside a function"
        for name, line, nested in imports(source, module)
        if nested and name.split(".")[0] in PACKAGES
    ]


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """module → the project modules it imports (at any level of the file)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        module = name + ".__init__" if path.name == "__init__.py" else name
        graph[name] = {
            dep
            for dep, _, _ in imports(path.read_text(encoding="utf-8"), module)
            if dep in modules and dep != name
        }
    return graph


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One import cycle (a list of modules, first repeated last), or None.

    A package's `__init__` importing its own submodules is not a cycle that
    bites (Python finishes the submodule first), so edges from a package to
    its own children are left out.
    """
    state: dict[str, int] = {}
    stack: list[str] = []

    def edges(node: str) -> list[str]:
        return sorted(d for d in graph.get(node, ()) if not d.startswith(node + "."))

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in edges(node):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def too_long(source: str, module: str) -> list[str]:
    lines = source.count("\n") + 1
    doc = ast.get_docstring(ast.parse(source)) or ""
    if lines > MAX_LINES and LONG_REASON not in doc:
        return [f"{module}: {lines} lines, and its docstring does not say why"]
    return []


# -- the rules, applied to the tree -------------------------------------------------


MODULES = project_modules()


def _each(rule, prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, path in MODULES.items():
        if name.startswith(prefix):
            module = name + ".__init__" if path.name == "__init__.py" else name
            out += rule(path.read_text(encoding="utf-8"), module)
    return out


def test_the_tree_was_found() -> None:
    assert "bot.core.store" in MODULES and "commands.news" in MODULES
    assert len(MODULES) > 20


def test_core_imports_nothing_from_discord_or_the_adapters() -> None:
    assert _each(core_violations, "bot.core") == []


def test_sql_only_in_the_store() -> None:
    found = [v for v in _each(sql_violations) if not v.startswith("bot.core.store")]
    assert found == []


def test_no_import_inside_a_function() -> None:
    assert _each(nested_project_imports) == []


def test_no_import_cycle() -> None:
    assert find_cycle(import_graph(MODULES)) is None


def test_no_long_module_without_a_reason() -> None:
    assert _each(too_long) == []


# -- each rule catches what it is for -------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "import discord\n",
        "from discord.ext import commands\n",
        "from bot.replies import render\n",
        "from bot import discord_app\n",
        "import commands.news\n",
        "def f():\n    import discord\n",
        "from ...discord_app import bot\n",
    ],
)
def test_core_rule_catches(source: str) -> None:
    assert core_violations(source, "bot.core.search.searcher")


def test_core_rule_allows_core_and_third_party() -> None:
    source = "import yaml\nimport aiosqlite\nfrom bot.core.store import Store\nfrom . import text\n"
    assert core_violations(source, "bot.core.newsroom") == []


def test_sql_rule_catches_and_spares_prose() -> None:
    assert sql_violations('Q = "SELECT id FROM articles WHERE url = ?"\n', "m")
    assert sql_violations('Q = ("UPDATE outbox SET state = ?")\n', "m")
    assert sql_violations('Q = "INSERT OR IGNORE INTO topics (key) VALUES (?)"\n', "m")
    assert sql_violations('Q = "DELETE FROM subscriptions WHERE id = ?"\n', "m")
    assert sql_violations('Q = "PRAGMA user_version"\n', "m")
    assert sql_violations('HELP = "Select a topic, then update your settings."\n', "m") == []


def test_nested_import_rule_catches() -> None:
    source = "import os\n\ndef f():\n    from bot.core import text\n    import json\n"
    assert nested_project_imports(source, "bot.cli.main") == [
        "bot.cli.main:4 imports bot.core inside a function",
        "bot.cli.main:4 imports bot.core.text inside a function",
    ]


def test_cycle_finder_finds_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "p": {"p.x"}, "p.x": {"p"}}) is None


def test_cycle_finder_on_real_files(tmp_path: Path) -> None:
    for pkg in PACKAGES:
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "bot" / "a.py").write_text("from bot import b\n")
    (tmp_path / "bot" / "b.py").write_text("def f():\n    from bot.a import x\n")
    cycle = find_cycle(import_graph(project_modules(tmp_path)))
    assert cycle == ["bot.a", "bot.b", "bot.a"]


def test_long_module_rule() -> None:
    body = "x = 1\n" * (MAX_LINES + 1)
    assert too_long('"""Short."""\n' + body, "m")
    assert too_long(f'"""{LONG_REASON} it is one table."""\n' + body, "m") == []


def private_imports(source: str, module: str) -> list[str]:
    """`from bot… import _name`, or `module._name` on an imported project module: a test
    that needs an internal is testing the wrong thing."""
    tree = ast.parse(source)
    found: list[str] = []
    modules: set[str] = set()  # local names bound to project modules
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"{module}:{node.lineno} imports {node.module}.{alias.name}")
                modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES and alias.asname:
                    modules.add(alias.asname)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{module}:{node.lineno} uses {node.value.id}.{node.attr}")
    return found


def test_tests_import_no_private_names() -> None:
    found = []
    for path in sorted((PROJECT_ROOT / "tests").rglob("*.py")):
        found += private_imports(path.read_text(encoding="utf-8"), str(path))
    assert found == []


def test_private_import_rule_catches() -> None:
    assert private_imports("from bot.core.store import _split_sql, Store\n", "t") == [
        "t:1 imports bot.core.store._split_sql"
    ]
    assert private_imports("from tests.helpers import _x\nimport bot\n", "t") == []
    source = "from bot.core import loader as loader_mod\nloader_mod._executor(1, 2)\n"
    assert private_imports(source, "t") == ["t:2 uses loader_mod._executor"]


def folders_named_discord(root: Path) -> list[str]:
    """A folder called `discord` shadows discord.py on some import paths."""
    found = []
    for here, dirs, _ in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        found += [str((Path(here) / d).relative_to(root)) for d in dirs if d == "discord"]
    return sorted(found)


def test_no_folder_named_discord() -> None:
    assert folders_named_discord(PROJECT_ROOT) == []


def test_discord_folder_rule_catches(tmp_path: Path) -> None:
    (tmp_path / "tests" / "discord").mkdir(parents=True)
    (tmp_path / "bot" / "discord_app").mkdir(parents=True)
    assert folders_named_discord(tmp_path) == ["tests/discord"]
