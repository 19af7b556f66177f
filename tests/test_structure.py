"""The code accounts for itself: modules import each other without cycles and stay short; every
intent, postback and state has its handler; every setting, command and benchmark is in the README.

Each test fails when something is added without being accounted for, and names it.
"""
from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import click
import pytest
import yaml

import bot
from bot.config import Config
from bot.content.model import Lang
from bot.deps import Deps
from bot.flows import MODULES
from tests.codemap import Code, find_cycle

ROOT = Path(bot.__file__).resolve().parent.parent
README = ROOT / "README.md"
MAX_LINES = 600

# Intents the dialogue core answers itself: out of scope gets the question bank's referral when it has
# one (a complaint, an emergency number) and the fallback otherwise (bot/dialogue.py, on_text).
CORE_INTENTS = {"out_of_scope"}
# Postbacks with a handler that no code of the bot puts on a button: only a Flex card the office
# writes itself (`campaign create --flex`) can carry them. Listed so that a handler left behind by
# a removed button shows up here.
HANDLED_NOT_EMITTED = {"privacy.show", "air.now"}


@pytest.fixture(scope="module")
def code() -> Code:
    return Code(ROOT, "bot")


@pytest.fixture
def registry(app):
    deps = app.extensions["deps"]
    assert isinstance(deps, Deps)
    return deps.registry


# -- imports and size ------------------------------------------------------------------------------

def import_graph(code: Code, *, deferred: bool) -> tuple[dict[str, set[str]], dict[tuple[str, str], int]]:
    graph: dict[str, set[str]] = {name: set() for name in code.modules}
    lines: dict[tuple[str, str], int] = {}
    for edge in code.edges():
        if edge.deferred and not deferred:
            continue
        graph[edge.source].add(edge.target)
        lines.setdefault((edge.source, edge.target), edge.line)
    return graph, lines


def describe(code: Code, cycle: list[str], lines: dict[tuple[str, str], int]) -> str:
    return "\n".join(f"  {code.modules[a].path.relative_to(code.root)}:{lines[(a, b)]} imports {b}"
                     for a, b in zip(cycle, cycle[1:], strict=False))


def test_bot_modules_import_each_other_without_cycles(code):
    """Module-level imports (not `if TYPE_CHECKING:`) form no cycle; a cycle is printed import by import."""
    graph, lines = import_graph(code, deferred=False)
    assert len(graph) > 80 and sum(map(len, graph.values())) > 300  # the whole package was read
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle; move the shared piece down a layer:\n" + describe(code, cycle, lines)


def test_no_import_inside_a_function_hides_a_cycle(code):
    """An import moved into a function would still close a cycle when that function runs."""
    graph, lines = import_graph(code, deferred=True)
    cycle = find_cycle(graph)
    assert cycle is None, "a cycle closed by an import inside a function:\n" + describe(code, cycle, lines)


def test_the_import_map_sees_cycles_but_not_type_checking_or_package_imports(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from pkg import a\n")
    (pkg / "a.py").write_text("from pkg.b import thing\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n"
                              "def f():\n    from pkg.c import x\nthing = 1\n")
    (pkg / "c.py").write_text("import pkg.a\nx = 2\n")
    small = Code(tmp_path, "pkg")
    graph, lines = import_graph(small, deferred=False)
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.b"}, "pkg.b": set(), "pkg.c": {"pkg.a"}}
    assert find_cycle(graph) is None
    graph, lines = import_graph(small, deferred=True)
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
    assert "pkg/b.py:5 imports pkg.c" in describe(small, find_cycle(graph), lines)


def test_no_module_is_longer_than_600_lines(code):
    long = {str(m.path.relative_to(ROOT)): n for m in code.modules.values()
            if (n := len(m.path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these along a seam (lines): {long}"


def test_every_flow_module_is_registered(code):
    """A flow module's register(registry) is called by create_app only when bot/flows lists it."""
    with_register = {m.name for m in code.modules.values() if m.name.startswith("bot.flows.")
                     and any(getattr(n, "name", None) == "register" for n in m.tree.body)}
    listed = {m.__name__ for m in MODULES}
    assert with_register - listed == set(), "add to MODULES in bot/flows/__init__.py"
    assert len(with_register) >= 10


# -- handlers --------------------------------------------------------------------------------------

def contract_intents() -> list[str]:
    return [str(i) for i in yaml.safe_load((ROOT / "content" / "intents.yaml").read_text(encoding="utf-8"))["intents"]]


def test_every_contract_intent_has_a_handler(app, registry):
    """A flow registered for it, or the topic answerer with an answer in both languages."""
    contents = app.extensions["deps"].contents
    unhandled = []
    for intent in contract_intents():
        if intent in registry.intents or intent in CORE_INTENTS:
            continue
        if registry.topic_answer is not None and all(intent in contents.of(lang).answers for lang in Lang):
            continue
        unhandled.append(intent)
    assert not unhandled, f"intents of content/intents.yaml nothing answers: {unhandled}"
    assert set(registry.intents) - set(contract_intents()) == set(), "handlers of intents the matcher never returns"


def test_every_postback_the_bot_emits_has_a_handler(code, registry):
    """Every action of postback_data(action, …) anywhere in bot/ is registered (and nothing else is)."""
    emitted, unresolved = code.argument_values("postback_data", 0, "action")
    assert not unresolved, "\n".join(["postback actions the map cannot follow; use a constant or a literal:",
                                      *unresolved])
    assert None not in emitted
    # Literals, a messages.py constant through an import, a parameter's default, a vararg in an
    # f-string, a nested helper's argument: the map follows each way the flows name an action.
    assert {"pledge.stop", "pledge.pick", "optout", "pledge.status", "pledge.stats", "remind.on", "air.unsub"} <= emitted
    missing = emitted - set(registry.postbacks)
    assert not missing, f"buttons whose tap nothing answers: {sorted(map(str, missing))}"
    assert set(registry.postbacks) - emitted == HANDLED_NOT_EMITTED


def test_every_state_a_flow_enters_has_a_state_handler(code, registry):
    """Every state given to ctx.set_state(…) is registered, so typing in it reaches its flow."""
    entered, unresolved = code.argument_values("set_state", 0, "state")
    assert not unresolved, "\n".join(["states the map cannot follow; use a StrEnum member:", *unresolved])
    entered.discard(None)  # leaving every flow
    assert len(entered) >= 8
    missing = entered - set(registry.states)
    assert not missing, f"states with no handler (text typed in them would be lost): {sorted(map(str, missing))}"
    assert set(map(str, registry.states)) - set(map(str, entered)) == set(), "state handlers of states nobody enters"


# -- the README ------------------------------------------------------------------------------------

def readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def table_rows(section: str) -> list[list[str]]:
    """The cells of each row of the section's tables (header and separator rows left out)."""
    rows = []
    for block in re.findall(r"(?:^\|.*\n)+", section, re.M):
        lines = block.splitlines()
        for line in lines[2:]:
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            rows.append(cells)
    return rows


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def settings_read(monkeypatch) -> set[str]:
    """The environment variables Config reads, found by letting it read a recording environment."""
    class Recording(dict[str, str]):
        def __init__(self) -> None:
            super().__init__()
            self.read: set[str] = set()

        def get(self, key, default=None):  # type: ignore[override]
            self.read.add(key)
            return super().get(key, default)

        def __getitem__(self, key: str) -> str:
            self.read.add(key)
            return super().__getitem__(key)

        def __contains__(self, key: object) -> bool:
            self.read.add(str(key))
            return super().__contains__(key)

    recording = Recording()
    monkeypatch.setattr(os, "environ", recording)
    Config()
    return recording.read


def test_only_config_reads_the_environment(code):
    """So Config's reads are all the settings there are (PyThaiNLP's offline switches are set, not read)."""
    readers = []
    for module in code.modules.values():
        if module.name == "bot.config":
            continue
        for node in ast.walk(module.tree):
            text = getattr(node, "attr", None), getattr(getattr(node, "value", None), "id", None)
            if text == ("environ", "os") or text == ("getenv", "os"):
                parent = module.parents.get(node)
                if getattr(parent, "attr", None) == "setdefault":
                    continue
                readers.append(f"{module.path.relative_to(ROOT)}:{node.lineno}")
    assert not readers, f"read settings in bot/config.py instead: {readers}"


def test_every_setting_is_in_the_readme_and_every_row_is_read(monkeypatch):
    read = settings_read(monkeypatch)
    assert {"LINE_CHANNEL_SECRET", "DATABASE_URL", "SECRET_KEY", "AIR_QUALITY_TIMEOUT"} <= read
    rows = table_rows(readme_section("Settings"))
    documented = {span for row in rows for span in code_spans(row[0]) if re.fullmatch(r"[A-Z][A-Z0-9_]*", span)}
    assert all(row[1] for row in rows), "a settings row says nothing"
    assert read - documented == set(), "settings read by bot/config.py without a row in the README's Settings"
    assert documented - read == set(), "rows of the README's Settings that nothing reads"


def app_commands(app) -> dict[str, click.Command]:
    """Every command create_app registers, by its path ("campaign create"), walking the groups."""
    found: dict[str, click.Command] = {}

    def walk(command: click.Command, path: list[str]) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
        else:
            found[" ".join(path)] = command

    walk(app.cli, [])
    return found


def readme_commands() -> dict[str, set[str]]:
    """Each command the README's Commands table lists, with the options it shows for it."""
    listed: dict[str, set[str]] = {}
    for row in table_rows(readme_section("Commands")):
        assert len(row) == 2 and row[1], f"a commands row without its description: {row}"
        for span in code_spans(row[0]):
            words = span.split()
            path = []
            for word in words:
                if not re.fullmatch(r"[a-z][a-z-]*", word):
                    break
                path.append(word)
            listed.setdefault(" ".join(path), set()).update(re.findall(r"--[a-z][a-z-]*", span))
    return listed


def test_every_command_is_in_the_readme_with_its_options(app):
    registered = app_commands(app)
    assert {"chat", "campaign create", "users set-password", "air alerts", "nlu eval"} <= set(registered)
    listed = readme_commands()
    assert set(registered) - set(listed) == set(), "commands without a row in the README's Commands"
    assert set(listed) - set(registered) == set(), "rows of the README's Commands that are not commands"
    for path, command in registered.items():
        options = {max(p.opts, key=len) for p in command.params if isinstance(p, click.Option)}
        assert options == listed[path], f"`{path}`: options {sorted(options)}, README shows {sorted(listed[path])}"


def test_every_benchmark_is_in_the_readme():
    scripts = {f"bench/{p.name}" for p in (ROOT / "bench").glob("*.py")
               if 'if __name__ == "__main__":' in p.read_text(encoding="utf-8")}
    rows = table_rows(readme_section("Benchmarks"))
    listed = {m for row in rows for span in code_spans(row[0]) for m in re.findall(r"bench/\w+\.py", span)}
    assert scripts - listed == set(), "benchmarks without a row in the README's Benchmarks"
    assert listed - scripts == set(), "rows of the README's Benchmarks that are not benchmarks"
