"""Run-time guards for diagram code: the functions the gate's rewritten code calls, and the budget.

The gate (`expressions.py`) turns every arithmetic operator, comparison, call,
method call, collection display, item assignment and f-string value into a call of
one of the `_..._` functions below. They refuse results that would be too large
before computing them (`10**10**8`, `'a' * 10**9`, `s.replace('a', s)`), count what
one evaluation creates (the memory budget) and check the wall-clock deadline.

Defence in depth: while diagram code runs, a trace function checks the same
deadline on every line of diagram code and on every call below it, in the
`handlers/` functions too, so even a slow exposed function is stopped. C code
between two checks is short because every input is size-checked first.
"""

from __future__ import annotations

import builtins
import itertools
import math
import operator
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from .sandbox_errors import (
    DEFAULT_BUDGET_SECONDS,
    FILENAME,
    MAX_ALLOCATED,
    MAX_INT_BITS,
    MAX_SIZE,
    SandboxViolation,
    StepBudgetExceeded,
)

# -- the budget of one evaluation ------------------------------------------------------------------


class Budget(threading.local):
    """Deadline and allocation count of the evaluation running in this thread."""

    deadline: float | None = None
    seconds: float = DEFAULT_BUDGET_SECONDS
    allocated: int = 0


_budget = Budget()


def check_deadline() -> None:
    deadline = _budget.deadline
    if deadline is not None and time.monotonic() > deadline:
        raise StepBudgetExceeded("budget", seconds=f"{_budget.seconds:g}".replace(".", ","))


def _allocate(size: int) -> None:
    if _budget.deadline is None:
        return  # outside an evaluation nothing is counted
    _budget.allocated += size
    if _budget.allocated > MAX_ALLOCATED:
        raise StepBudgetExceeded("memory", limit=MAX_ALLOCATED)
    check_deadline()


def _tracer(frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
    # Called for every new frame while diagram code runs, in the `handlers/` functions it calls too,
    # so a slow function is stopped at its next call. Line by line only in diagram code itself:
    # tracing library code (the holiday tables) line by line would cost more than it runs.
    check_deadline()
    return _tracer if frame.f_code.co_filename == FILENAME else None


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Run diagram code with a deadline of `seconds` (wall clock) and a fresh allocation count."""
    if _budget.deadline is not None:  # nested evaluation (an exposed function evaluating): one budget
        yield
        return
    previous = sys.gettrace()
    _budget.seconds = seconds
    _budget.allocated = 0
    _budget.deadline = time.monotonic() + seconds
    sys.settrace(_tracer)
    try:
        yield
    finally:
        sys.settrace(previous)
        _budget.deadline = None


# -- sizes ---------------------------------------------------------------------------------------

_CONTAINERS = (list, tuple, set, frozenset, type({}.keys()), type({}.values()), type({}.items()))
_NESTED = (str, bytes, dict, *_CONTAINERS)


def size_of(value: Any, limit: int = MAX_SIZE) -> int:
    """Characters of strings plus elements of collections, counted deep; stops past `limit`.

    Stopping keeps the cost bounded for shared structures ([x, x] with x inside x ...).
    """
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, dict):
            total += 1 + 2 * len(item)
            if total <= limit:
                stack.extend(v for v in itertools.chain(item.keys(), item.values()) if isinstance(v, _NESTED))
        elif isinstance(item, _CONTAINERS):
            total += 1 + len(item)
            if total <= limit:
                stack.extend(v for v in item if isinstance(v, _NESTED))
        else:
            total += 1
        if total > limit:
            return total
    return total


def _refuse_large(size: int, what: str) -> None:
    if size > MAX_SIZE:
        raise SandboxViolation("too_large", what=what, limit=MAX_SIZE)


def _checked(value: Any, what: str) -> Any:
    size = size_of(value)
    _refuse_large(size, what)
    _allocate(size)
    return value


# -- operators -----------------------------------------------------------------------------------

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "//": operator.floordiv,
    "%": operator.mod, "**": operator.pow, "<<": operator.lshift, ">>": operator.rshift,
    "|": operator.or_, "^": operator.xor, "&": operator.and_,
}
_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge, "in": lambda a, b: a in b, "not in": lambda a, b: a not in b,
    "is": operator.is_, "is not": operator.is_not,
}
_SEQUENCES = (str, bytes, list, tuple)


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _refuse_bits(bits: int, op: str) -> None:
    if bits > MAX_INT_BITS:
        raise SandboxViolation("number_too_large", limit=MAX_INT_BITS, operator=op)


def _predict(op: str, a: Any, b: Any) -> None:
    """Refuse before computing what would be too large to compute."""
    if op == "*":
        if _is_int(a) and _is_int(b):
            _refuse_bits(a.bit_length() + b.bit_length(), op)
        elif isinstance(a, _SEQUENCES) and _is_int(b) or isinstance(b, _SEQUENCES) and _is_int(a):
            seq, n = (a, b) if isinstance(a, _SEQUENCES) else (b, a)
            size = size_of(seq)
            if size and n > 0:
                _refuse_large(size * n if n <= MAX_SIZE else MAX_SIZE + 1, "herhalen met *")
    elif op == "**" and _is_int(a) and _is_int(b) and b > 0 and abs(a) > 1:
        _refuse_bits(math.ceil(b * math.log2(abs(a))) if b <= MAX_INT_BITS else MAX_INT_BITS + 1, op)
    elif op == "<<" and _is_int(a) and _is_int(b) and a != 0:
        _refuse_bits(a.bit_length() + b, op)
    elif op == "+" and isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _refuse_large(size_of(a) + size_of(b), "samenvoegen met +")
    elif op == "%" and isinstance(a, str | bytes):
        raise SandboxViolation("string_format", what="%")


def binop(op: str, a: Any, b: Any) -> Any:
    check_deadline()
    _predict(op, a, b)
    result = _OPERATORS[op](a, b)
    if not isinstance(result, int | float | bool):
        size = size_of(result)
        _refuse_large(size, f"'{op}'")
        _allocate(size)
    return result


def compare(left: Any, ops: tuple[str, ...], *rights: Any) -> Any:
    """A (chained) comparison. Operands are size-checked first, so comparing stays cheap."""
    check_deadline()
    values = (left, *rights)
    for value in values:
        if not isinstance(value, int | float | bool | str | type(None)):
            _refuse_large(size_of(value), "vergelijken")
    if len(ops) == 1:
        return _COMPARISONS[ops[0]](left, rights[0])
    return all(_COMPARISONS[op](a, b) for op, a, b in zip(ops, values, values[1:], strict=False))


def display(value: Any) -> Any:
    """A list, tuple, set or dict written in the code."""
    return _checked(value, "een lijst of woordenboek")


def fmt(value: Any) -> Any:
    """A value inside an f-string: its text may not become too large."""
    check_deadline()
    if not isinstance(value, int | float | bool | type(None)):
        _refuse_large(size_of(value), "een f-string")
    return value


def setitem(container: Any, key: Any, value: Any) -> None:
    """x['veld'] = ...: only on dicts and lists (task data is JSON); the result stays bounded."""
    check_deadline()
    kind = next((k for k in (dict, list) if isinstance(container, k)), None)
    if kind is None:
        raise SandboxViolation("not_changeable", type=type(container).__name__)
    kind.__setitem__(container, key, value)  # the builtin's own method, never an override
    _refuse_large(size_of(container), "toewijzen aan een veld")
    _allocate(1)


# -- methods -------------------------------------------------------------------------------------

STRING_METHODS = frozenset({
    "lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "rsplit", "replace",
    "title", "capitalize", "casefold", "count", "find", "rfind", "index", "isdigit", "isalpha",
    "isalnum", "isspace", "islower", "isupper",
})
DICT_METHODS = frozenset({"get", "keys", "values", "items"})
SEQUENCE_METHODS = frozenset({"count", "index"})
METHODS: dict[type, frozenset[str]] = {str: STRING_METHODS, dict: DICT_METHODS, list: SEQUENCE_METHODS,
                                      tuple: SEQUENCE_METHODS}
ALL_METHODS: frozenset[str] = frozenset().union(*METHODS.values())


def call_method(obj: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    check_deadline()
    kind = next((k for k in METHODS if isinstance(obj, k)), None)
    if kind is None or name not in METHODS[kind]:
        raise SandboxViolation("method_not_for_type", name=name, type=type(obj).__name__)
    if kind is not str:
        _refuse_large(size_of(obj), f"'.{name}()'")
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        old, new = args[0], args[1]
        hits = len(obj) + 1 if old == "" else obj.count(old)
        _refuse_large(len(obj) + hits * max(0, len(new) - len(old)), "'.replace()'")
    result = getattr(kind, name)(obj, *args, **kwargs)  # the builtin's own method, never an override
    if isinstance(result, str | list):
        _allocate(size_of(result))
    return result


# -- builtins ------------------------------------------------------------------------------------

# The builtins diagram code may call: what the five procedures use plus a few obviously safe ones.
# Loads of these names give the real builtin (so `isinstance(x, dict)` works); calls go through
# `call_builtin`, which size-checks the arguments first.
ALLOWED_BUILTIN_NAMES = (
    "abs", "all", "any", "bool", "dict", "float", "int", "isinstance", "len", "list", "max", "min",
    "round", "set", "sorted", "str", "sum", "tuple",
)
BUILTINS: dict[str, Any] = {name: getattr(builtins, name) for name in ALLOWED_BUILTIN_NAMES}
BUILTINS.update({"True": True, "False": False, "None": None})
_MAX_ROUND_DIGITS = 100


def _round(number: Any, ndigits: Any = None) -> Any:
    if ndigits is not None and (not isinstance(ndigits, int) or abs(ndigits) > _MAX_ROUND_DIGITS):
        raise SandboxViolation("argument_not_allowed", name="round",
                               what=f"een aantal cijfers tussen -{_MAX_ROUND_DIGITS} en {_MAX_ROUND_DIGITS}")
    return round(number, ndigits)


def _sum(values: Any, start: Any = 0) -> Any:
    items = list(values)
    if not all(isinstance(v, int | float) for v in (*items, start)):
        raise SandboxViolation("argument_not_allowed", name="sum", what="getallen")
    total = sum(items, start)
    if isinstance(total, int):
        _refuse_bits(total.bit_length(), "sum")
    return total


_SPECIAL: dict[str, Callable[..., Any]] = {"round": _round, "sum": _sum}


def call_builtin(name: str, *args: Any, **kwargs: Any) -> Any:
    check_deadline()
    for value in (*args, *kwargs.values()):
        if not isinstance(value, int | float | bool | type(None) | type):
            _refuse_large(size_of(value), f"'{name}()'")
    result = _SPECIAL.get(name, BUILTINS[name])(*args, **kwargs)
    if not isinstance(result, int | float | bool):
        _allocate(size_of(result))
    return result


# The names the rewritten code calls. They start with '_', which diagram code cannot write.
GUARDS: dict[str, Any] = {
    "__builtins__": BUILTINS,
    "_binop_": binop,
    "_compare_": compare,
    "_display_": display,
    "_fmt_": fmt,
    "_setitem_": setitem,
    "_call_method_": call_method,
    "_call_builtin_": call_builtin,
}
