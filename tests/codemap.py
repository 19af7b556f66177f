"""A map of the bot's source read with `ast`, never imported: who imports whom, and which string
values reach a given argument (the postback actions the code emits, the states flows enter).

Used by tests/test_structure.py. The value tracing is deliberately small: literals, module and
class constants (also across imports), conditional expressions, f-strings, local assignments,
loop and comprehension variables, and function parameters (their defaults and every call site in
the package). Anything else is reported as unresolved, so the tests fail instead of guessing.
"""
from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    parents: dict[ast.AST, ast.AST] = field(default_factory=dict)
    # local name -> (module, attribute), attribute None when the name is the module itself
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    # module-level and class-level (as "Class.NAME") assignments of one expression
    assigned: dict[str, ast.expr] = field(default_factory=dict)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    deferred: bool  # inside a function (runs when called, not at import)


@dataclass
class Unresolved(Exception):
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: cannot tell which values {self.what!r} takes"


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or \
        (isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


class Code:
    """Every module of one package under root (migrations left out), parsed."""

    def __init__(self, root: Path, package: str) -> None:
        self.root = root
        self.modules: dict[str, Module] = {}
        pkg_dir = root / package
        for path in sorted(pkg_dir.rglob("*.py")):
            rel = path.relative_to(root)
            if "migrations" in rel.parts:
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join(parts)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            module = Module(name, path, tree)
            for parent in ast.walk(tree):
                for child in ast.iter_child_nodes(parent):
                    module.parents[child] = parent
            self.modules[name] = module
        for module in self.modules.values():
            self._read_names(module)

    # -- imports ------------------------------------------------------------------------------
    def _package_of(self, module: Module) -> str:
        return module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]

    def _absolute(self, module: Module, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = self._package_of(module).split(".")
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def _read_names(self, module: Module) -> None:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ImportFrom):
                source = self._absolute(module, node)
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    module.imports[alias.asname or alias.name] = (sub, None) if sub in self.modules else (source, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        module.imports[alias.asname] = (alias.name, None)
        for node in module.tree.body:
            self._read_assignments(module, node, "")

    def _read_assignments(self, module: Module, node: ast.stmt, prefix: str) -> None:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            module.assigned[prefix + node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            module.assigned[prefix + node.target.id] = node.value
        elif isinstance(node, ast.ClassDef) and not prefix:
            for inner in node.body:
                self._read_assignments(module, inner, node.name + ".")

    def edges(self) -> Iterator[Edge]:
        """Imports of one module of the package by another; `if TYPE_CHECKING:` blocks left out.

        `from a.b import c` depends on a.b (or on a.b.c when c is a module); the package a, which
        Python initialises first, is not counted, or every package whose __init__ imports its own
        modules would be a cycle."""
        for module in self.modules.values():
            yield from self._edges_in(module, module.tree.body, deferred=False)

    def _edges_in(self, module: Module, body: list[ast.stmt], deferred: bool) -> Iterator[Edge]:
        for node in body:
            if isinstance(node, ast.If) and _is_type_checking(node):
                yield from self._edges_in(module, node.orelse, deferred)
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in self._targets(module, node):
                    if target != module.name:
                        yield Edge(module.name, target, node.lineno, deferred)
                continue
            inner = deferred or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            for field_name in ("body", "orelse", "finalbody", "handlers"):
                block = getattr(node, field_name, None)
                if isinstance(block, list):
                    stmts = [s for h in block for s in h.body] if field_name == "handlers" else block
                    yield from self._edges_in(module, [s for s in stmts if isinstance(s, ast.stmt)], inner)
            if isinstance(node, ast.Match):
                for case in node.cases:
                    yield from self._edges_in(module, case.body, inner)

    def _targets(self, module: Module, node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names if a.name in self.modules]
        source = self._absolute(module, node)
        out = []
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            if sub in self.modules:
                out.append(sub)
            elif source in self.modules:
                out.append(source)
        return out

    # -- values -------------------------------------------------------------------------------
    def calls_to(self, name: str) -> Iterator[tuple[Module, ast.Call]]:
        """Calls of a function or method by this name (`f(…)` or `x.f(…)`), its definition excluded."""
        for module in self.modules.values():
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call):
                    f = node.func
                    if (isinstance(f, ast.Name) and f.id == name) or (isinstance(f, ast.Attribute) and f.attr == name):
                        yield module, node

    def calls_of(self, module: Module, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[tuple[Module, ast.Call]]:
        """Calls that reach this function: by its name in its own module, by the name imported from
        there, as an attribute of that module; a method by its name on any object."""
        args = fn.args.posonlyargs + fn.args.args
        method = bool(args) and args[0].arg in ("self", "cls")
        for caller, call in self.calls_to(fn.name):
            f = call.func
            if isinstance(f, ast.Name):
                by_name = (caller is module and f.id not in caller.imports) or caller.imports.get(f.id) == (module.name, fn.name)
            else:
                assert isinstance(f, ast.Attribute)
                by_name = method or (isinstance(f.value, ast.Name) and caller.imports.get(f.value.id) == (module.name, None))
            if by_name:
                yield caller, call

    def where(self, module: Module, node: ast.AST) -> str:
        return f"{module.path.relative_to(self.root)}:{getattr(node, 'lineno', '?')}"

    def values(self, module: Module, node: ast.expr, _seen: frozenset[int] = frozenset()) -> set[str | None]:
        """Every value the expression can have, or Unresolved."""
        key = id(node)
        if key in _seen:
            return set()  # a value that flows back into itself adds nothing new
        seen = _seen | {key}
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, str)):
            return {node.value}
        if isinstance(node, ast.IfExp):
            return self.values(module, node.body, seen) | self.values(module, node.orelse, seen)
        if isinstance(node, ast.JoinedStr):
            parts: list[set[str | None]] = []
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    if part.format_spec is not None or part.conversion != -1:
                        raise Unresolved(self.where(module, node), ast.unparse(node))
                    parts.append(self.values(module, part.value, seen))
                else:
                    parts.append(self.values(module, part, seen))
            return {"".join(str(p) for p in combo) for combo in itertools.product(*parts)}
        if isinstance(node, ast.Attribute):
            return self._attribute(module, node, seen)
        if isinstance(node, ast.Name):
            return self._name(module, node, seen)
        raise Unresolved(self.where(module, node), ast.unparse(node))

    def _constant(self, module_name: str, dotted: str, seen: frozenset[int], depth: int = 0) -> set[str | None] | None:
        """A module's (or one of its classes') constant, following imports and re-exports."""
        module = self.modules.get(module_name)
        if module is None or depth > 10:
            return None
        if dotted in module.assigned:
            return self.values(module, module.assigned[dotted], seen)
        head, _, rest = dotted.partition(".")
        if head in module.imports:
            source, attr = module.imports[head]
            if attr is None:
                return self._constant(source, rest, seen, depth + 1) if rest else None
            return self._constant(source, f"{attr}.{rest}" if rest else attr, seen, depth + 1)
        return None

    def _attribute(self, module: Module, node: ast.Attribute, seen: frozenset[int]) -> set[str | None]:
        if isinstance(node.value, ast.Name):
            found = self._constant(module.name, f"{node.value.id}.{node.attr}", seen)
            if found is not None:
                return found
        raise Unresolved(self.where(module, node), ast.unparse(node))

    def _enclosing(self, module: Module, node: ast.AST) -> Iterator[ast.AST]:
        while node in module.parents:
            node = module.parents[node]
            yield node

    def _name(self, module: Module, node: ast.Name, seen: frozenset[int]) -> set[str | None]:
        for scope in self._enclosing(module, node):
            if isinstance(scope, COMPREHENSIONS):
                for gen in scope.generators:
                    if isinstance(gen.target, ast.Name) and gen.target.id == node.id:
                        return self._elements(module, gen.iter, seen)
            elif isinstance(scope, FUNCS):
                found = self._in_function(module, scope, node.id, seen)
                if found is not None:
                    return found
        found = self._constant(module.name, node.id, seen)
        if found is None:
            raise Unresolved(self.where(module, node), node.id)
        return found

    def _in_function(self, module: Module, fn: ast.AST, name: str, seen: frozenset[int]) -> set[str | None] | None:
        assert isinstance(fn, FUNCS)
        out: set[str | None] | None = None
        for node in _own_nodes(fn):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            value = getattr(node, "value", None) if any(isinstance(t, ast.Name) and t.id == name for t in targets) else None
            if value is not None:
                out = (out or set()) | self.values(module, value, seen)
            elif isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id == name:
                out = (out or set()) | self._elements(module, node.iter, seen)
            elif isinstance(node, ast.AugAssign | ast.NamedExpr) and getattr(node.target, "id", None) == name:
                raise Unresolved(self.where(module, node), name)
        if out is not None:
            return out
        args = fn.args
        names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
        if name in names or (args.vararg and args.vararg.arg == name):
            return self._parameter(module, fn, name, seen)
        return None

    def _parameter(self, module: Module, fn: ast.AST, name: str, seen: frozenset[int], collection: bool = False
                   ) -> set[str | None]:
        """The values a parameter gets: its default and the argument at every call site."""
        assert isinstance(fn, FUNCS)
        if isinstance(fn, ast.Lambda):
            raise Unresolved(self.where(module, fn), name)
        args = fn.args
        positional = [a.arg for a in (*args.posonlyargs, *args.args)]
        defaults = dict(zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=True))
        defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None})
        is_vararg = args.vararg is not None and args.vararg.arg == name
        if is_vararg != collection:
            raise Unresolved(self.where(module, fn), f"{fn.name}({name})")
        # Methods are called without their first parameter.
        offset = 1 if positional and positional[0] in ("self", "cls") else 0
        out: set[str | None] = set()
        if name in defaults:
            out |= self.values(module, defaults[name], seen)
        for caller, call in self.calls_of(module, fn):
            if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                raise Unresolved(self.where(caller, call), ast.unparse(call))
            if is_vararg:
                for arg in call.args[len(positional) - offset:]:
                    out |= self.values(caller, arg, seen)
                continue
            index = positional.index(name) - offset if name in positional else None
            keyword = next((k.value for k in call.keywords if k.arg == name), None)
            if keyword is not None:
                out |= self.values(caller, keyword, seen)
            elif index is not None and 0 <= index < len(call.args):
                out |= self.values(caller, call.args[index], seen)
            elif name not in defaults:
                raise Unresolved(self.where(caller, call), f"{fn.name}({name})")
        return out

    def _elements(self, module: Module, node: ast.expr, seen: frozenset[int]) -> set[str | None]:
        """Every value an iteration over the expression can give."""
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            out: set[str | None] = set()
            for element in node.elts:
                out |= self.values(module, element, seen)
            return out
        if isinstance(node, ast.Name):
            for scope in self._enclosing(module, node):
                if isinstance(scope, FUNCS) and scope.args.vararg is not None and scope.args.vararg.arg == node.id:
                    return self._parameter(module, scope, node.id, seen, collection=True)
        raise Unresolved(self.where(module, node), ast.unparse(node))

    def argument_values(self, function: str, position: int, keyword: str) -> tuple[set[str | None], list[str]]:
        """The values the given argument takes at every call of `function` in the package, and what
        could not be resolved (one line each)."""
        values: set[str | None] = set()
        unresolved: list[str] = []
        for module, call in self.calls_to(function):
            arg = next((k.value for k in call.keywords if k.arg == keyword), None)
            if arg is None and len(call.args) > position:
                arg = call.args[position]
            if arg is None:
                unresolved.append(f"{self.where(module, call)}: {ast.unparse(call)} (no {keyword})")
                continue
            try:
                values |= self.values(module, arg)
            except Unresolved as e:
                unresolved.append(str(e))
        return values, unresolved


def _own_nodes(fn: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, without those of the functions defined inside it."""
    todo = list(ast.iter_child_nodes(fn))
    while todo:
        node = todo.pop()
        if isinstance(node, FUNCS):
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path [a, b, …, a], or None when it has none."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt, WHITE) == GREY:
                return [*stack[stack.index(nxt):], nxt]
            if colour.get(nxt, WHITE) == WHITE:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = BLACK
        return None

    for start in sorted(graph):
        if colour[start] == WHITE:
            found = visit(start)
            if found:
                return found
    return None
