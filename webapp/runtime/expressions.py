"""The gate for expressions and scripts in diagrams: only provably bounded code gets through.

Code is parsed with Python's `ast`, checked against a whitelist of node types (no
loops, comprehensions, definitions, imports, '_' names, attribute access other than
a short list of methods, calls other than a short list of builtins and the functions
`handlers/` exposes), then rewritten so that every operator, comparison, call, method
call, collection display, item assignment and f-string value goes through a guard in
`guards.py`, and compiled once per source text. Without loops, a program of at most
MAX_SOURCE_CHARS characters performs a bounded number of guarded operations, each
bounded in size; the wall-clock budget in `guards.py` is the last line of defence.
"""

from __future__ import annotations

import ast
import functools
import io
import operator
import re
import tokenize
from collections.abc import Callable, Iterable
from types import CodeType
from typing import Any, Literal

from . import guards, sandbox_errors
from .guards import ALL_METHODS, ALLOWED_BUILTIN_NAMES
from .sandbox_errors import (
    FILENAME,
    MAX_DEPTH,
    MAX_FORMAT_WIDTH,
    MAX_INT_BITS,
    MAX_SOURCE_CHARS,
    SandboxSyntaxError,
    SandboxViolation,
)

Mode = Literal["eval", "exec"]

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Module, ast.Expression, ast.Assign, ast.AugAssign, ast.If, ast.Pass, ast.Expr,
    ast.Constant, ast.Name, ast.Load, ast.Store, ast.Subscript, ast.Slice, ast.Attribute, ast.Call, ast.keyword,
    ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.Invert,
    ast.Compare, ast.IfExp, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.JoinedStr, ast.FormattedValue,
)
_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
    ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&",
}
_CMPOPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
}
_STATEMENT_WORDS: dict[type[ast.AST], str] = {
    ast.Return: "return", ast.Delete: "del", ast.Raise: "raise", ast.Try: "try", ast.Assert: "assert",
    ast.Global: "global", ast.Nonlocal: "nonlocal", ast.Break: "break", ast.Continue: "continue",
    ast.With: "with", ast.AsyncWith: "async with", ast.Match: "match", ast.AnnAssign: "x: type = ...",
}
_SYNTAX_WORDS: dict[type[ast.AST], str] = {
    ast.NamedExpr: "De operator ':='", ast.Starred: "Uitpakken met *", ast.Await: "'await'",
    ast.Yield: "'yield'", ast.YieldFrom: "'yield from'", ast.MatMult: "De operator '@'",
}
_DEFINITIONS: dict[type[ast.AST], str] = {
    ast.FunctionDef: "def", ast.AsyncFunctionDef: "async def", ast.ClassDef: "class", ast.Lambda: "lambda",
}
_ALLOWED_NODES += (*_BINOPS, *_CMPOPS)
_FORMAT_NUMBER = re.compile(r"\d+")


def _refuse(code: str, node: ast.AST | None = None, **params: Any) -> SandboxViolation:
    return SandboxViolation(code, getattr(node, "lineno", None), **params)


class _Validator(ast.NodeVisitor):
    """Walks the tree once and raises at the first node outside the whitelist."""

    def __init__(self, source: str, functions: frozenset[str]) -> None:
        self.source = source
        self.callable = frozenset(ALLOWED_BUILTIN_NAMES) | functions

    def generic_visit(self, node: ast.AST) -> None:
        if not isinstance(node, _ALLOWED_NODES):
            raise self._refusal(node)
        super().generic_visit(node)

    def _refusal(self, node: ast.AST) -> SandboxViolation:
        kind = type(node)
        if isinstance(node, ast.For | ast.AsyncFor | ast.While):
            return _refuse("loop", node)
        if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp | ast.comprehension):
            return _refuse("comprehension", node)
        if kind in _DEFINITIONS:
            return _refuse("function_definition", node, what=_DEFINITIONS[kind])
        if isinstance(node, ast.Import | ast.ImportFrom):
            statement = ast.get_source_segment(self.source, node) or ast.unparse(node)
            return _refuse("import", node, statement=statement)
        if kind in _STATEMENT_WORDS:
            return _refuse("statement_not_allowed", node, what=_STATEMENT_WORDS[kind])
        return _refuse("syntax_not_allowed", node, what=_SYNTAX_WORDS.get(kind, f"'{kind.__name__}'"))

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("_"):
            raise _refuse("private_name", node, name=node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        # Reached only for attributes that are not a method call (visit_Call handles those).
        self.visit(node.value)
        if node.attr.startswith("_"):
            raise _refuse("private_name", node, name=node.attr)
        raise _refuse("attribute", node, name=node.attr)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            self.visit(func.value)
            if func.attr.startswith("_"):
                raise _refuse("private_name", func, name=func.attr)
            if func.attr in ("format", "format_map"):
                raise _refuse("string_format", func, what=f".{func.attr}()")
            if func.attr not in ALL_METHODS:
                raise _refuse("method_not_allowed", func, name=func.attr)
        elif isinstance(func, ast.Name):
            if func.id.startswith("_"):
                raise _refuse("private_name", func, name=func.id)
            if func.id not in self.callable:
                raise _refuse("unknown_function", func, name=func.id)
        else:
            raise _refuse("syntax_not_allowed", func, what="Het resultaat van een expressie aanroepen")
        for keyword in node.keywords:
            if keyword.arg is None:
                raise _refuse("syntax_not_allowed", keyword.value, what="Uitpakken met **")
        for part in (*node.args, *node.keywords):
            self.visit(part)

    def visit_Dict(self, node: ast.Dict) -> None:
        if any(key is None for key in node.keys):
            raise _refuse("syntax_not_allowed", node, what="Uitpakken met **")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            raise _refuse("constant_too_large", node, limit=MAX_INT_BITS)
        if not isinstance(value, str | int | float | type(None)):
            raise _refuse("syntax_not_allowed", node, what=f"De waarde {value!r}")

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if type(node.op) not in _BINOPS:
            raise self._refusal(node.op)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if not isinstance(node.target, ast.Name):
            raise _refuse("assignment_target", node)
        if type(node.op) not in _BINOPS:
            raise self._refusal(node.op)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            inner: ast.AST = target
            while isinstance(inner, ast.Subscript) and not isinstance(inner.slice, ast.Slice):
                inner = inner.value
            if not isinstance(inner, ast.Name) or (target is not inner and len(node.targets) > 1):
                raise _refuse("assignment_target", node)
        self.generic_visit(node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        spec = node.format_spec
        if spec is not None:
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            text = "".join(p.value for p in parts if isinstance(p, ast.Constant) and isinstance(p.value, str))
            if (not all(isinstance(p, ast.Constant) for p in parts)
                    or any(int(n) > MAX_FORMAT_WIDTH for n in _FORMAT_NUMBER.findall(text))):
                raise _refuse("format_spec", node, spec=text, limit=MAX_FORMAT_WIDTH)
        self.visit(node.value)


class _Rewriter(ast.NodeTransformer):
    """Routes every operation that can grow or take time through a guard in guards.py."""

    @staticmethod
    def _guard(name: str, args: list[ast.expr], node: ast.AST, keywords: list[ast.keyword] | None = None) -> ast.Call:
        call = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=keywords or [])
        return ast.copy_location(call, node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        return self._guard("_binop_", [ast.Constant(_BINOPS[type(node.op)]), node.left, node.right], node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        ops = ast.Tuple(elts=[ast.Constant(_CMPOPS[type(op)]) for op in node.ops], ctx=ast.Load())
        return self._guard("_compare_", [node.left, ops, *node.comparators], node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Attribute):
            return self._guard("_call_method_", [func.value, ast.Constant(func.attr), *node.args], node,
                               node.keywords)
        if isinstance(func, ast.Name) and func.id in ALLOWED_BUILTIN_NAMES:
            return self._guard("_call_builtin_", [ast.Constant(func.id), *node.args], node, node.keywords)
        return node

    def _display(self, node: ast.expr, parts: Iterable[ast.expr | None]) -> ast.AST:
        self.generic_visit(node)
        if all(isinstance(part, ast.Constant) for part in parts) or isinstance(getattr(node, "ctx", None), ast.Store):
            return node  # bounded by the source text itself
        return self._guard("_display_", [node], node)

    def visit_List(self, node: ast.List) -> ast.AST:
        return self._display(node, node.elts)

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        return self._display(node, node.elts)

    def visit_Set(self, node: ast.Set) -> ast.AST:
        return self._display(node, node.elts)

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        return self._display(node, [*node.keys, *node.values])

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        self.generic_visit(node)
        node.value = self._guard("_fmt_", [node.value], node.value)
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        target = node.targets[0]
        if isinstance(target, ast.Subscript):  # the validator allows one target then
            call = self._guard("_setitem_", [target.value, target.slice, node.value], node)
            return ast.copy_location(ast.Expr(value=call), node)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        assert isinstance(node.target, ast.Name)
        current = ast.copy_location(ast.Name(id=node.target.id, ctx=ast.Load()), node)
        value = self._guard("_binop_", [ast.Constant(_BINOPS[type(node.op)]), current, node.value], node)
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)


def _parse(source: Any, mode: Mode) -> tuple[str, ast.AST]:
    if not isinstance(source, str):
        raise SandboxViolation("not_a_string", type=type(source).__name__)
    if mode == "eval":
        # Expressions come raw from XML text, often indented or on their own line.
        # Keep the leading newlines so reported line numbers still match the XML text.
        stripped = source.strip()
        source = "\n" * source[: len(source) - len(source.lstrip())].count("\n") + stripped
    if len(source) > MAX_SOURCE_CHARS:
        raise SandboxViolation("too_long", length=len(source), limit=MAX_SOURCE_CHARS)
    _check_brackets(source)
    try:
        tree = ast.parse(source, FILENAME, mode)
    except SyntaxError as err:
        raise SandboxSyntaxError(err.lineno, err.offset, err.text, err.msg) from None
    except (RecursionError, MemoryError):  # the parser's own stack guard: `-(-(-(...)))`
        raise SandboxViolation("too_deep", limit=MAX_DEPTH) from None
    except ValueError as err:  # null bytes
        raise SandboxSyntaxError(None, None, None, str(err)) from None
    _check_depth(tree)
    return source, tree


def _check_brackets(source: str) -> None:
    """Refuse deep bracket nesting before parsing; redundant brackets leave no trace in the tree."""
    depth = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.OP and token.string in "([{":
                depth += 1
                if depth > MAX_DEPTH:
                    raise SandboxViolation("too_deep", token.start[0], limit=MAX_DEPTH)
            elif token.type == tokenize.OP and token.string in ")]}":
                depth -= 1
    except (tokenize.TokenError, SyntaxError):
        return  # ast.parse reports it with a line number


def _check_depth(tree: ast.AST) -> None:
    stack = [(tree, 1)]
    while stack:  # iterative: a recursive walk would itself overflow on hostile input
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SandboxViolation("too_deep", getattr(node, "lineno", None), limit=MAX_DEPTH)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert,
}


class _ConstantFolder:
    """Computes operators over constants with the run-time guards, so `10**10**8` or `'a' * 10**9`
    is refused by the check before deploy, not only when the step runs."""

    def __init__(self) -> None:
        self.memo: dict[int, tuple[bool, Any]] = {}

    def value(self, node: ast.AST) -> tuple[bool, Any]:
        if id(node) not in self.memo:
            self.memo[id(node)] = self._compute(node)
        return self.memo[id(node)]

    def _compute(self, node: ast.AST) -> tuple[bool, Any]:
        if isinstance(node, ast.Constant):
            return True, node.value
        operands = ([node.operand] if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY
                    else [node.left, node.right] if isinstance(node, ast.BinOp) else [])
        values = [self.value(operand) for operand in operands]
        if not values or not all(known for known, _ in values):
            return False, None
        try:
            if isinstance(node, ast.UnaryOp):
                return True, _UNARY[type(node.op)](values[0][1])
            return True, guards.binop(_BINOPS[type(node.op)], values[0][1], values[1][1])  # type: ignore[union-attr]
        except SandboxViolation as err:
            raise SandboxViolation(err.code, getattr(node, "lineno", None), **err.params) from None
        except (ArithmeticError, TypeError, ValueError):
            return False, None  # fails when it runs, with Python's own error

    def check(self, tree: ast.AST) -> None:
        with guards.budget(sandbox_errors.DEFAULT_BUDGET_SECONDS):
            for node in ast.walk(tree):
                if isinstance(node, ast.BinOp):
                    self.value(node)


@functools.lru_cache(maxsize=4096)
def compile_code(source: str, mode: Mode, functions: frozenset[str]) -> CodeType:
    """Check and compile once per source text: the same gateway condition runs very often.

    `functions` are the names of the exposed functions diagram code may call.
    lru_cache does not cache exceptions, so refused code is refused again every time.
    """
    source, tree = _parse(source, mode)
    _Validator(source, functions).visit(tree)
    _ConstantFolder().check(tree)
    tree = ast.fix_missing_locations(_Rewriter().visit(tree))
    try:
        return compile(tree, FILENAME, mode)
    except SyntaxError as err:
        raise SandboxSyntaxError(err.lineno, err.offset, err.text, err.msg) from None


@functools.cache
def default_functions() -> frozenset[str]:
    """The names `handlers/` exposes to diagrams (the working-day calendar)."""
    from handlers.working_days import WorkingDayCalendar, diagram_functions

    return frozenset(diagram_functions(WorkingDayCalendar()))


def check_expression(source: str, functions: Iterable[str] | None = None) -> None:
    """Raise SandboxViolation / SandboxSyntaxError if `source` is not an allowed expression."""
    compile_code(source, "eval", default_functions() if functions is None else frozenset(functions))


def check_script(source: str, functions: Iterable[str] | None = None) -> None:
    """Raise SandboxViolation / SandboxSyntaxError if `source` is not an allowed script."""
    compile_code(source, "exec", default_functions() if functions is None else frozenset(functions))
