"""The fields of the forms as the reports show them: titles and option labels from the schemas."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .labels import JUDGEMENT_VALUE, clean


@dataclass(frozen=True)
class FieldInfo:
    name: str
    title: str
    kind: str  # choice, bool, number, text
    options: tuple[tuple[Any, str], ...] = ()

    def show(self, value: Any) -> str:
        if isinstance(value, bool):
            return "ja" if value else "nee"
        for option, title in self.options:
            if option == value:
                return title
        return str(value)

    @property
    def judgement(self) -> bool:
        return self.kind == "choice" and any(JUDGEMENT_VALUE.search(f"{v} {t}") for v, t in self.options)


class FormFields:
    """Field titles and options of the forms (the catalog of `forms/`), cached."""

    def __init__(self, catalog) -> None:
        self.catalog = catalog
        self._cache: dict[str, dict[str, FieldInfo]] = {}

    def of(self, form: str | None) -> dict[str, FieldInfo]:
        if not form:
            return {}
        if form not in self._cache:
            try:
                schema = self.catalog.load(form) if self.catalog is not None else {}
            except Exception:  # a removed or broken form: the figures fall back to field names
                schema = {}
            fields = {}
            for name, spec in (schema.get("properties") or {}).items():
                if not isinstance(spec, Mapping):
                    continue
                title = clean(str(spec.get("title") or name.replace("_", " ").capitalize()))
                if "enum" in spec:
                    fields[name] = FieldInfo(name, title, "choice", tuple((v, str(v)) for v in spec["enum"]))
                elif "oneOf" in spec:
                    options = tuple((o.get("const"), str(o.get("title") or o.get("const")))
                                    for o in spec["oneOf"] if isinstance(o, Mapping))
                    fields[name] = FieldInfo(name, title, "choice", options)
                elif spec.get("type") == "boolean":
                    fields[name] = FieldInfo(name, title, "bool")
                elif spec.get("type") in ("integer", "number"):
                    fields[name] = FieldInfo(name, title, "number")
                else:
                    fields[name] = FieldInfo(name, title, "text")
            self._cache[form] = fields
        return self._cache[form]

    def info(self, form: str | None, name: str, value: Any) -> FieldInfo:
        found = self.of(form).get(name)
        if found:
            return found
        kind = "bool" if isinstance(value, bool) else "number" if isinstance(value, int | float) else "choice"
        return FieldInfo(name, name.replace("_", " ").capitalize(), kind)
