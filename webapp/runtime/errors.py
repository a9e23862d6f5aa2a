"""The errors the runtime raises. Callers (web, CLI, worker) turn them into messages."""

from __future__ import annotations

from dataclasses import dataclass, field


class KlachtrouteError(Exception):
    """Base of every error the runtime raises on purpose."""


@dataclass
class DiagramProblem:
    message: str
    file: str | None = None
    element_id: str | None = None
    element_name: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p)
        element = f" [{self.element_id}{' ' + repr(self.element_name) if self.element_name else ''}]" if self.element_id else ""
        return f"{where}{element}: {self.message}" if where or element else self.message


class DiagramError(KlachtrouteError):
    """A diagram that cannot be deployed or run; lists every problem found."""

    def __init__(self, problems: list[DiagramProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class ConfigError(KlachtrouteError):
    """An organisation's configuration is invalid."""


class NotFound(KlachtrouteError):
    pass


class PermissionDenied(KlachtrouteError):
    pass


class ConflictError(KlachtrouteError):
    """Someone else changed the complaint first: nothing was changed by this call."""


@dataclass
class FieldError:
    path: str  # "" for the whole form, else a dotted path such as "contact.datum"
    message: str
    validator: str = ""


class FormValidationError(KlachtrouteError):
    def __init__(self, form: str, errors: list[FieldError]):
        self.form = form
        self.errors = errors
        super().__init__(f"form {form}: " + "; ".join(f"{e.path or '(form)'}: {e.message}" for e in errors))


@dataclass
class InvalidWorkflowState(KlachtrouteError):
    """The engine failed while running a step (a script or expression error)."""

    message: str
    element_id: str | None = None
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.element_id}: {self.message}" if self.element_id else self.message
