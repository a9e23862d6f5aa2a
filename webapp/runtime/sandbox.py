"""SpiffWorkflow's script engine for diagrams: expressions and scripts run only through the gate.

Gateway conditions, timer expressions, service-task parameters, message payloads and
scripts are Python, and SpiffWorkflow's default engine runs them with the whole of
Python. Diagrams come from process owners, so this engine runs them only after the
gate in `expressions.py` accepted and rewrote them (a whitelist of syntax, guarded
operators, only the builtins in `guards.BUILTINS` and the functions the runtime
exposes), each evaluation within the time and memory budget of `guards.budget`.
"""

from __future__ import annotations

import builtins
import copy
import json
import keyword
from collections.abc import Callable, Iterator, Mapping
from types import CodeType, FrameType, TracebackType
from typing import Any, Literal

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import sandbox_errors
from .expressions import check_expression, check_script, compile_code
from .guards import ALLOWED_BUILTIN_NAMES, GUARDS, budget
from .sandbox_errors import FILENAME, SandboxSyntaxError, SandboxViolation, StepBudgetExceeded

__all__ = [
    "ALLOWED_BUILTINS",
    "SandboxEnvironment",
    "SandboxSyntaxError",
    "SandboxViolation",
    "SandboxedScriptEngine",
    "StepBudgetExceeded",
    "check_expression",
    "check_script",
]

ALLOWED_BUILTINS: frozenset[str] = frozenset(ALLOWED_BUILTIN_NAMES)
# Python's builtins that diagram code does not get: a NameError for one of them gets a clear message.
_PYTHON_BUILTINS = frozenset(dir(builtins))


def _line_in_diagram_code(tb: TracebackType | None) -> int | None:
    line = None
    for frame, lineno in _walk_tb(tb):
        if frame.f_code.co_filename == FILENAME:
            line = lineno
    return line


def _walk_tb(tb: TracebackType | None) -> Iterator[tuple[FrameType, int]]:
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


def _unavailable_builtin(err: NameError) -> SandboxViolation | None:
    name = getattr(err, "name", None)
    if name in _PYTHON_BUILTINS and name not in ALLOWED_BUILTINS:
        return SandboxViolation("name_not_available", _line_in_diagram_code(err.__traceback__), name=name)
    return None


# --- SpiffWorkflow environment and engine -------------------------------------------

def _check_function_names(functions: Mapping[str, Callable[..., Any]]) -> None:
    for name, func in functions.items():
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise ValueError(f"cannot expose {name!r} to diagrams: not a plain public identifier")
        if name in _PYTHON_BUILTINS:
            raise ValueError(f"cannot expose {name!r} to diagrams: it is the name of a Python builtin")
        if not callable(func):
            raise TypeError(f"cannot expose {name!r} to diagrams: not callable")


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Drop-in for Spiff's TaskDataEnvironment that runs only code the gate accepted.

    `self.globals` holds the exposed functions, as in Spiff. Task data wins over
    exposed functions in expressions (as in Spiff); the guards and builtins are put
    in last, so task data can never replace them. Each evaluation gets
    `budget_seconds` of wall-clock time (None: `sandbox_errors.DEFAULT_BUDGET_SECONDS`
    at the time of the call) and the memory budget of `guards`.
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None,
                 budget_seconds: float | None = None) -> None:
        functions = dict(functions or {})
        _check_function_names(functions)
        super().__init__(functions)
        self.function_names = frozenset(functions)
        self.budget_seconds = budget_seconds

    def _seconds(self) -> float:
        return sandbox_errors.DEFAULT_BUDGET_SECONDS if self.budget_seconds is None else self.budget_seconds

    def _namespace(self, context: Mapping[str, Any], external_context: Mapping[str, Any] | None) -> dict[str, Any]:
        namespace = dict(self.globals)
        if external_context:
            namespace.update(external_context)
        namespace.update(context)
        namespace.update(GUARDS)
        return namespace

    def compile(self, source: str, mode: Literal["eval", "exec"]) -> CodeType:
        return compile_code(source, mode, self.function_names)

    def evaluate(self, expression: str, context: Mapping[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        code = self.compile(expression, "eval")
        namespace = self._namespace(context, external_context)
        try:
            with budget(self._seconds()):
                return eval(code, namespace)  # noqa: S307 - gated and rewritten code
        except NameError as err:
            violation = _unavailable_builtin(err)
            if violation is None:
                raise
            raise violation from None

    def execute(self, script: str, context: dict[str, Any],
                external_context: Mapping[str, Any] | None = None) -> bool:
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        code = self.compile(script, "exec")
        # Run on a deep copy and write back only on success: a script that fails (or is
        # refused) half-way leaves the task data exactly as it was.
        namespace = self._namespace(copy.deepcopy(context), external_context)
        try:
            with budget(self._seconds()):
                exec(code, namespace)  # noqa: S102 - gated and rewritten code
        except NameError as err:
            violation = _unavailable_builtin(err)
            if violation is None:
                raise
            raise violation from None
        # Same clean-up as Spiff: no builtins, guards, exposed functions, external
        # context or anything callable stays in task data.
        result = {
            key: value for key, value in namespace.items()
            if key not in GUARDS and key not in self.globals and key not in external_context
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
                 service_handler: ServiceHandler | None = None, budget_seconds: float | None = None) -> None:
        super().__init__(environment=SandboxEnvironment(functions, budget_seconds))
        self.service_handler = service_handler

    def validate(self, expression: str) -> None:
        self.environment.compile(expression, "eval")

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
