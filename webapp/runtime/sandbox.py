"""The sandbox for Python inside uploaded BPMN diagrams.

Gateway conditions, timer expressions, service-task parameters and script tasks are
Python, and SpiffWorkflow's default engine runs them with the real builtins
(`import os`, `open()`, `__import__` all work). Diagrams come from process owners, not
from developers, so this module compiles that code with RestrictedPython and runs it
with RestrictedPython's guards, a curated set of builtins and the functions the
runtime chooses to expose (the working-day calendar).

Two layers refuse code:

1. At compile time (also used by the diagram checks before deploy, through
   `check_expression` / `check_script`): our own pass over the syntax tree gives a
   clear English message for the common cases, then RestrictedPython's transformer
   is the authority; anything it reports also becomes a `SandboxViolation`.
2. At run time: attribute access, item writes and `+=` go through guard functions
   that RestrictedPython's transformer inserted into the compiled code.

Not covered: CPU time and memory. `10**10**8` or a huge `'x' * n` still runs.
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import json
import keyword
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from types import CodeType, FrameType, TracebackType
from typing import Any, Literal

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safer_getattr_raise
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, IOPERATOR_TO_STR
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

__all__ = [
    "ALLOWED_BUILTINS",
    "SandboxEnvironment",
    "SandboxSyntaxError",
    "SandboxViolation",
    "SandboxedScriptEngine",
    "check_expression",
    "check_script",
]

# Spiff's own line-number lookup searches tracebacks for this file name.
_FILENAME = "<string>"


class SandboxViolation(Exception):
    """Diagram code asked for something the sandbox refuses."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.lineno = lineno

    def __str__(self) -> str:
        return self.message


class SandboxSyntaxError(SandboxViolation, SyntaxError):
    """Diagram code that is not valid Python.

    Also a `SyntaxError`: SpiffWorkflow's DMN engine catches SyntaxError from
    `validate()`, and WorkflowTaskException reads `lineno`/`offset` from it.
    """

    def __init__(self, message: str, lineno: int | None, offset: int | None = None,
                 text: str | None = None) -> None:
        super().__init__(message, lineno)
        self.msg = message
        self.offset = offset
        self.text = text
        self.filename = _FILENAME


# --- What diagram code may use ------------------------------------------------------

_EXTRA_BUILTINS = (
    "len", "min", "max", "sum", "sorted", "any", "all", "abs", "round", "str", "int", "float",
    "bool", "list", "dict", "set", "tuple", "enumerate", "zip", "range", "isinstance",
)
# Taken out of RestrictedPython's safe_builtins: class statements (`__build_class__`)
# and attribute writes are not needed in a diagram and only widen the surface;
# `_getattr_` is supplied as a guard below, not as a builtin.
_REMOVED_BUILTINS = ("__build_class__", "setattr", "delattr", "_getattr_")

_BUILTINS: dict[str, Any] = {k: v for k, v in safe_builtins.items() if k not in _REMOVED_BUILTINS}
_BUILTINS.update({name: getattr(builtins, name) for name in _EXTRA_BUILTINS})

ALLOWED_BUILTINS: frozenset[str] = frozenset(_BUILTINS)

# Refused by name at compile time: the escape hatches, so the diagram check reports
# them before deploy. `print`/`printed` are also here because RestrictedPython
# rewrites them into a print collector that would leave `_print` in task data.
_DENIED_NAMES = frozenset({
    "open", "eval", "exec", "compile", "globals", "locals", "vars", "getattr", "setattr",
    "delattr", "breakpoint", "input", "help", "exit", "quit", "memoryview", "print", "printed",
})

_PYTHON_BUILTINS = frozenset(dir(builtins))


# --- Compile-time checks -------------------------------------------------------------

def _refuse_underscore(kind: str, name: str) -> str:
    return f"{kind} {name!r} is not allowed (names starting with '_' are refused)"


class _Precheck(ast.NodeVisitor):
    """Friendly messages for the usual refusals; RestrictedPython still runs after."""

    def __init__(self, source: str) -> None:
        self.source = source

    def refuse(self, node: ast.AST, message: str) -> None:
        raise SandboxViolation(message, lineno=getattr(node, "lineno", None))

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        statement = ast.get_source_segment(self.source, node) or ast.unparse(node)
        self.refuse(node, f"imports are not allowed in diagram expressions: {statement!r}")

    visit_ImportFrom = visit_Import

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("_") and node.id != "_":
            self.refuse(node, f"name {node.id!r} is not available (names starting with '_' are refused)")
        if node.id in _DENIED_NAMES:
            self.refuse(node, f"{node.id!r} is not available")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.generic_visit(node)  # inner first: `().__class__.__base__` names `__class__`
        if node.attr.startswith("_"):
            self.refuse(node, _refuse_underscore("access to attribute", node.attr))
        if node.attr in INSPECT_ATTRIBUTES:
            self.refuse(node, f"access to attribute {node.attr!r} is not allowed (interpreter internals)")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.refuse(node, f"class definitions are not allowed in diagram scripts: 'class {node.name}'")


_RP_LINE = re.compile(r"^Line (\d+):")


def _parse(source: str, mode: Literal["eval", "exec"]) -> tuple[str, ast.AST]:
    if not isinstance(source, str):
        raise SandboxViolation(f"diagram code must be a string, not {type(source).__name__}")
    if mode == "eval":
        # Expressions come raw from XML text, often indented or on their own line.
        # Keep the leading newlines so reported line numbers still match the XML text.
        stripped = source.strip()
        source = "\n" * source[: len(source) - len(source.lstrip())].count("\n") + stripped
    try:
        return source, ast.parse(source, _FILENAME, mode)
    except SyntaxError as err:
        text = (err.text or "").strip()
        where = f"line {err.lineno}" if err.lineno else "unknown line"
        message = f"syntax error on {where}: {err.msg}" + (f": {text!r}" if text else "")
        raise SandboxSyntaxError(message, err.lineno, err.offset, err.text) from None


@functools.lru_cache(maxsize=4096)
def _compile(source: str, mode: Literal["eval", "exec"]) -> CodeType:
    """Compile once per source string: the same gateway condition runs very often.

    lru_cache does not cache exceptions, so refused code is re-checked (and refused)
    every time, which is fine.
    """
    source, tree = _parse(source, mode)
    _Precheck(source).visit(tree)
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(tree, filename=_FILENAME)  # type: ignore[arg-type]
    if result.errors:
        match = _RP_LINE.match(result.errors[0])
        raise SandboxViolation(
            "refused by the sandbox: " + "; ".join(result.errors),
            lineno=int(match.group(1)) if match else None,
        )
    assert result.code is not None
    return result.code


def check_expression(source: str) -> None:
    """Raise SandboxViolation / SandboxSyntaxError if `source` is not an allowed expression."""
    _compile(source, "eval")


def check_script(source: str) -> None:
    """Raise SandboxViolation / SandboxSyntaxError if `source` is not an allowed script."""
    _compile(source, "exec")


# --- Run-time guards (names inserted by RestrictedPython's transformer) ---------------

def _guarded_getattr(obj: Any, name: str) -> Any:
    if not isinstance(name, str):
        raise TypeError("attribute name must be a string")
    if name.startswith("_"):
        raise SandboxViolation(_refuse_underscore("access to attribute", name))
    if name in INSPECT_ATTRIBUTES:
        raise SandboxViolation(f"access to attribute {name!r} is not allowed (interpreter internals)")
    try:
        # RestrictedPython's own check as a second line: it also refuses str.format,
        # whose format strings can reach attributes ("{0.__class__}").
        return safer_getattr_raise(obj, name)
    except NotImplementedError as err:
        raise SandboxViolation(f"access to attribute {name!r} is not allowed: {err}") from None


def _guarded_write(obj: Any) -> Any:
    # Task data is JSON: dicts and lists are the only things a script should change.
    if type(obj) in (dict, list):
        return obj
    raise SandboxViolation(
        f"changing a {type(obj).__name__!r} object is not allowed (only dicts and lists can be changed)"
    )


_INPLACE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift, ">>=": operator.irshift,
    "|=": operator.ior, "^=": operator.ixor, "&=": operator.iand, "//=": operator.ifloordiv,
    "@=": operator.imatmul,
}
assert set(_INPLACE_OPS) == set(IOPERATOR_TO_STR.values())


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    return _INPLACE_OPS[op](target, value)


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    # Used for calls with *args/**kwargs; the arguments need no further guarding here.
    return func(*args, **kwargs)


_GUARDS: dict[str, Any] = {
    "__builtins__": _BUILTINS,
    "_getattr_": _guarded_getattr,
    "_getitem_": operator.getitem,
    "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": _guarded_write,
    "_inplacevar_": _inplacevar,
    "_apply_": _apply,
}


def _line_in_diagram_code(tb: TracebackType | None) -> int | None:
    line = None
    for frame, lineno in _walk_tb(tb):
        if frame.f_code.co_filename == _FILENAME:
            line = lineno
    return line


def _walk_tb(tb: TracebackType | None) -> Iterator[tuple[FrameType, int]]:
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


def _unavailable_builtin(err: NameError) -> SandboxViolation | None:
    """A NameError for a real builtin we do not offer (`type`, `map`, ...) gets a clear message."""
    name = getattr(err, "name", None)
    if name in _PYTHON_BUILTINS and name not in _BUILTINS:
        return SandboxViolation(f"{name!r} is not available", lineno=_line_in_diagram_code(err.__traceback__))
    return None


# --- SpiffWorkflow environment and engine -------------------------------------------

def _check_function_names(functions: Mapping[str, Callable[..., Any]]) -> None:
    for name, func in functions.items():
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise ValueError(f"cannot expose {name!r} to diagrams: not a plain public identifier")
        if name in _DENIED_NAMES:
            raise ValueError(f"cannot expose {name!r} to diagrams: the sandbox refuses that name")
        if not callable(func):
            raise TypeError(f"cannot expose {name!r} to diagrams: not callable")


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Drop-in for Spiff's TaskDataEnvironment that runs restricted code.

    `self.globals` holds the exposed functions, as in Spiff. Task data wins over
    exposed functions in expressions (as in Spiff); the guards and builtins are put
    in last, so task data can never replace them.
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        functions = dict(functions or {})
        _check_function_names(functions)
        super().__init__(functions)

    def _namespace(self, context: Mapping[str, Any], external_context: Mapping[str, Any] | None) -> dict[str, Any]:
        namespace = dict(self.globals)
        if external_context:
            namespace.update(external_context)
        namespace.update(context)
        namespace.update(_GUARDS)
        return namespace

    def evaluate(self, expression: str, context: Mapping[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        code = _compile(expression, "eval")
        try:
            return eval(code, self._namespace(context, external_context))  # noqa: S307 - restricted code
        except NameError as err:
            violation = _unavailable_builtin(err)
            if violation is None:
                raise
            raise violation from None

    def execute(self, script: str, context: dict[str, Any],
                external_context: Mapping[str, Any] | None = None) -> bool:
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        code = _compile(script, "exec")
        # Run on a deep copy and write back only on success: a script that fails (or is
        # refused) half-way leaves the task data exactly as it was.
        namespace = self._namespace(copy.deepcopy(context), external_context)
        try:
            exec(code, namespace)  # noqa: S102 - restricted code
        except NameError as err:
            violation = _unavailable_builtin(err)
            if violation is None:
                raise
            raise violation from None
        # Same clean-up as Spiff: no builtins, guards, exposed functions, external
        # context or anything callable (a `def` in the script) stays in task data.
        result = {
            key: value for key, value in namespace.items()
            if key not in _GUARDS and key not in self.globals and key not in external_context
            and not callable(value)
        }
        context.clear()
        context.update(result)
        return True

    def check_for_overwrite(self, context: Mapping[str, Any], external_context: Mapping[str, Any]) -> None:
        """Spiff's check: task data named like an exposed function would make it uncallable."""
        overwrites = (set(self.globals) | set(external_context)).intersection(context)
        if overwrites:
            raise ValueError(
                "You have task data that overwrites a predefined function(s). Please change the "
                f"following variable or field name(s) to something else: {sorted(overwrites)}"
            )


def _task_error(message: str, task: Any, err: Exception, **kwargs: Any) -> WorkflowTaskException:
    wte = WorkflowTaskException(message, task=task, exception=err, **kwargs)
    # Spiff adds an empty "did you mean" note for a NameError without suggestions.
    wte.notes = [note for note in wte.notes if note]
    return wte


def _describe(err: BaseException) -> str:
    if isinstance(err, SandboxViolation):
        return str(err)
    return f"{type(err).__name__}: {err}"


ServiceHandler = Callable[[Any, str, dict[str, Any]], Any]


class SandboxedScriptEngine(PythonScriptEngine):
    """PythonScriptEngine that runs diagram code in the sandbox.

    `functions` are the only extra names diagram code can call. `service_handler`
    receives `(task, operation_name, {param: evaluated value})` for service tasks and
    returns something JSON-serialisable, which lands in the task's result variable.
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None,
                 service_handler: ServiceHandler | None = None) -> None:
        super().__init__(environment=SandboxEnvironment(functions))
        self.service_handler = service_handler

    def validate(self, expression: str) -> None:
        check_expression(expression)

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as err:
            # Spiff's own message drops the cause ("Error evaluating expression 'x'"),
            # which would hide the sandbox's reason from the process owner.
            raise _task_error(f"Error evaluating expression '{expression}': {_describe(err)}", task, err) from err

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> bool:
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except Exception as err:
            raise self.create_task_exec_exception(task, script, err) from err

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> Exception:
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        if isinstance(err, SpiffWorkflowException):
            err.line_number = line_number  # type: ignore[attr-defined]
            err.error_line = error_line  # type: ignore[attr-defined]
            err.add_note(f"Python script error on line {line_number}: '{error_line}'")
            return err
        # Spiff builds "Class:" + args[0], which fails for non-string args.
        wte = _task_error(_describe(err), task, err, line_number=line_number, error_line=error_line)
        if line_number:
            wte.add_note(f"Script line {line_number}: {error_line.strip()!r}")
        return wte

    def get_error_line_number_and_content(self, script: str, err: BaseException) -> tuple[int, str]:
        # From the exception itself rather than sys.exc_info(), so it works anywhere.
        line = getattr(err, "lineno", None) if isinstance(err, SyntaxError | SandboxViolation) else None
        if line is None:
            line = _line_in_diagram_code(err.__traceback__)
        lines = script.splitlines()
        if line and 0 < line <= len(lines):
            return line, lines[line - 1]
        return 0, ""

    def call_service(self, task: Any, operation_name: str = "",
                     operation_params: Mapping[str, Mapping[str, Any]] | None = None, **kwargs: Any) -> str:
        """Spiff's service task json.loads what this returns into its result variable."""
        if self.service_handler is None:
            raise WorkflowTaskException(
                f"service task calls {operation_name!r}, but no service handler is configured", task=task
            )
        params = {name: param["value"] for name, param in (operation_params or {}).items()}
        try:
            return json.dumps(self.service_handler(task, operation_name, params))
        except SpiffWorkflowException:
            raise
        except Exception as err:
            raise _task_error(f"service {operation_name!r} failed: {_describe(err)}", task, err) from err
