"""Task forms: JSON Schema files of a procedure package (`forms/<name>`), named by the user
task's `formJsonSchemaFilename` property, always validated on the server."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker

from .errors import FieldError, FormValidationError, KlachtrouteError

FORMS_ROOT = Path(__file__).resolve().parents[2] / "forms"


class FormNotFound(KlachtrouteError):
    pass


def _dutch_message(error: jsonschema.ValidationError) -> str:
    v, value = error.validator, error.validator_value
    if v == "required":
        return "Dit veld is verplicht."
    if v == "type":
        kinds = {"string": "tekst", "integer": "een geheel getal", "number": "een getal",
                 "boolean": "ja of nee", "array": "een lijst", "object": "een groep velden"}
        wanted = value if isinstance(value, list) else [value]
        return "Vul " + " of ".join(kinds.get(k, k) for k in wanted if k != "null") + " in."
    if v == "enum":
        return "Kies een van de mogelijkheden."
    if v == "minLength":
        return "Dit veld is verplicht." if value == 1 else f"Gebruik minstens {value} tekens."
    if v == "maxLength":
        return f"Gebruik hoogstens {value} tekens."
    if v == "minimum":
        return f"Vul een waarde van minstens {value} in."
    if v == "maximum":
        return f"Vul een waarde van hoogstens {value} in."
    if v == "format" and value == "date":
        return "Vul een geldige datum in (jjjj-mm-dd)."
    if v == "format" and value == "email":
        return "Vul een geldig e-mailadres in."
    if v == "minItems":
        return f"Vul minstens {value} regel(s) in."
    if v == "pattern":
        return "De invoer heeft niet de verwachte vorm."
    if v in ("dependentRequired", "dependencies"):
        return "Vul ook de velden in die hierbij horen."
    if v == "additionalProperties":
        return "Dit formulier kent een of meer van deze velden niet."
    return error.message


class FormCatalog:
    """The forms of one package (`of_package`), or of template folders (the first folder that has
    a file wins); caches validators and validates submitted data."""

    def __init__(self, *roots: Path) -> None:
        self.roots = roots or (FORMS_ROOT,)
        self.root = self.roots[0]
        self.texts: dict[str, str] | None = None  # a package's forms by name; None: read the folders
        self._validators: dict[str, Draft202012Validator] = {}
        self._lock = threading.Lock()

    @classmethod
    def of_package(cls, files: dict[str, str]) -> FormCatalog:
        catalog = cls()
        catalog.roots = ()
        catalog.texts = {n[len("forms/"):]: t for n, t in files.items() if n.startswith("forms/")}
        return catalog

    def __getstate__(self) -> dict[str, Any]:  # the gate hands a package to its child process
        return {"roots": self.roots, "texts": self.texts}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.roots = state["roots"]
        self.root = self.roots[0] if self.roots else FORMS_ROOT
        self.texts = state["texts"]
        self._validators, self._lock = {}, threading.Lock()

    def names(self) -> list[str]:
        if self.texts is not None:
            return sorted(self.texts)
        return sorted({p.name for root in self.roots if root.is_dir() for p in root.glob("*.json")})

    def path(self, filename: str) -> Path:
        if "/" in filename or "\\" in filename or filename.startswith("."):
            raise FormNotFound(f"form name '{filename}' is not a plain file name")
        for root in self.roots:
            if (root / filename).is_file():
                return root / filename
        return self.root / filename

    def text(self, filename: str) -> str | None:
        """The form file as written, or None when the package has no such form."""
        try:
            if self.texts is not None:
                self.path(filename)  # refuses names that are not plain
                return self.texts.get(filename)
            return self.path(filename).read_text(encoding="utf-8")
        except (FileNotFoundError, FormNotFound):
            return None

    def exists(self, filename: str) -> bool:
        return self.text(filename) is not None

    def load(self, filename: str) -> dict[str, Any]:
        text = self.text(filename)
        if text is None:
            raise FormNotFound(f"form '{filename}' does not exist in the package's forms/")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormNotFound(f"form '{filename}' is not valid JSON: {exc}") from exc

    def ui_schema(self, schema_filename: str, ui_filename: str | None = None) -> dict[str, Any]:
        name = ui_filename or schema_filename.replace("-schema.json", "-uischema.json")
        return self.load(name) if self.exists(name) else {}

    def validator(self, filename: str) -> Draft202012Validator:
        with self._lock:
            cached = self._validators.get(filename)
        if cached is not None:
            return cached
        schema = self.load(filename)
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema, format_checker=FormatChecker())
        with self._lock:
            self._validators[filename] = validator
        return validator

    def invalidate(self, filename: str) -> None:
        """Forget a form's cached validator (after it was edited)."""
        with self._lock:
            self._validators.pop(filename, None)

    def validate(self, filename: str, data: dict[str, Any]) -> None:
        errors = []
        for error in self.validator(filename).iter_errors(data):
            path = ".".join(str(p) for p in error.absolute_path)
            if error.validator in ("required", "dependentRequired"):
                # Point a missing field at the field itself, not at its parent.
                missing = error.message.split("'")[1] if "'" in error.message else ""
                path = ".".join(p for p in (path, missing) if p)
            errors.append(FieldError(path=path, message=_dutch_message(error), validator=str(error.validator)))
        if errors:
            raise FormValidationError(filename, sorted(errors, key=lambda e: e.path))
