"""User-task instructions (`spiffworkflow:instructionsForEndUser`): Jinja templates, bounded like expressions.

The staff task page renders a task's instructions with the task data. Jinja's
sandbox keeps templates away from Python internals but not from `{% for %}` over
`range(100000)` twice or `{{ 'a' * 10**9 }}`. So a template is accepted only if it
is text with `{{ value }}` outputs and `{% if %}` blocks, where a value is a name, a
field (`klager.naam`, `x['veld']`), a slice (`termijn[:10]`), a constant, a
comparison, `and`/`or`/`not`, `~` and a few filters. Such a template's output is at
most its own length times the data it shows, and it renders in one pass.
"""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from handlers.dutch import long_date

from . import sandbox_errors
from .guards import budget
from .sandbox_errors import MAX_DEPTH, MAX_SOURCE_CHARS, SandboxViolation

ALLOWED_FILTERS = frozenset({
    "capitalize", "upper", "lower", "title", "trim", "default", "d", "datum", "e", "escape", "length", "first",
    "last",
})
ALLOWED_TESTS = frozenset({"defined", "undefined", "none", "number", "string", "true", "false"})
_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.Name, nodes.Getattr, nodes.Getitem,
    nodes.Slice, nodes.Const, nodes.Filter, nodes.Test, nodes.CondExpr, nodes.Compare, nodes.Operand,
    nodes.And, nodes.Or, nodes.Not, nodes.Concat,
)
_WORDS = {nodes.For: "{% for %}", nodes.Macro: "{% macro %}", nodes.Call: "een functie-aanroep",
          nodes.Assign: "{% set %}", nodes.AssignBlock: "{% set %}", nodes.Include: "{% include %}",
          nodes.Import: "{% import %}", nodes.FromImport: "{% from %}", nodes.Extends: "{% extends %}",
          nodes.Mul: "'*'", nodes.Pow: "'**'", nodes.Add: "'+'", nodes.Mod: "'%'"}

_environment = SandboxedEnvironment(autoescape=True)
_environment.filters["datum"] = long_date


def _refuse(node: nodes.Node | None, what: str) -> SandboxViolation:
    return SandboxViolation("syntax_not_allowed", getattr(node, "lineno", None), what=f"In een instructie: {what}")


def _check_node(node: nodes.Node) -> None:
    if isinstance(node, nodes.For):
        raise SandboxViolation("loop", node.lineno)
    if not isinstance(node, _ALLOWED_NODES):
        raise _refuse(node, _WORDS.get(type(node), f"'{type(node).__name__}'"))
    if isinstance(node, nodes.Name | nodes.Getattr):
        name = node.name if isinstance(node, nodes.Name) else node.attr
        if name.startswith("_"):
            raise SandboxViolation("private_name", node.lineno, name=name)
    if isinstance(node, nodes.Filter | nodes.Test):
        allowed = ALLOWED_FILTERS if isinstance(node, nodes.Filter) else ALLOWED_TESTS
        if node.name not in allowed or node.dyn_args is not None or node.dyn_kwargs is not None:
            raise _refuse(node, f"de filter of test '{node.name}' (toegestaan: {', '.join(sorted(allowed))})")


@functools.lru_cache(maxsize=1024)
def _compiled(template: str) -> Any:
    if len(template) > MAX_SOURCE_CHARS:
        raise SandboxViolation("too_long", length=len(template), limit=MAX_SOURCE_CHARS)
    try:
        tree = _environment.parse(template)
    except TemplateSyntaxError as err:
        raise SandboxViolation("syntax", err.lineno, line=err.lineno, detail=err.message, text="") from None
    except (RecursionError, MemoryError):
        raise SandboxViolation("too_deep", limit=MAX_DEPTH) from None
    stack = [(tree, 1)]
    while stack:  # iterative, so a deep template cannot overflow the check itself
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SandboxViolation("too_deep", getattr(node, "lineno", None), limit=MAX_DEPTH)
        _check_node(node)
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    return _environment.from_string(tree)


def check_instructions(template: str) -> None:
    """Raise SandboxViolation if the instruction template is not bounded."""
    _compiled(template)


def render_instructions(template: str, data: dict[str, Any]) -> str:
    """The instructions as HTML (values escaped), within the time budget of an evaluation."""
    compiled = _compiled(template)
    with budget(sandbox_errors.DEFAULT_BUDGET_SECONDS):
        return compiled.render(**data)
