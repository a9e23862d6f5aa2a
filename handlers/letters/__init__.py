"""Letters (Dutch): one template per letter, the first line is the subject.

Templates are Jinja2 text with the task data and `organisatie`, `referentie`. They come with
the procedure package (`letters/<name>.txt`, see webapp.runtime.packages); the files in this
folder are the templates new packages are made from. A letter to the complainant carries their
personal link (the package's `_portal` paragraph), placed before the closing greeting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, DictLoader, TemplateNotFound, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from handlers.dutch import long_date

LETTERS_ROOT = Path(__file__).parent
PORTAL = "_portal"
_DOUBLE_STOP = re.compile(r"(?<!\.)([.!?])\.(?!\.)")


MAX_LETTER_CHARS = 200_000  # a letter is a page or two; a template may not build more


class LetterTooBig(SecurityError):
    pass


class _LetterEnvironment(SandboxedEnvironment):
    """Letters are written by process owners in the browser: untrusted. The sandbox keeps them from
    Python's internals; this keeps their time and memory bounded. No loops (a letter has none, and
    nested ones could run for ever), no `**`, and `*` only up to the size of a letter."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("machtsverheffen (**) kan niet in een brief")
        for text, times in ((left, right), (right, left)):
            if isinstance(text, str | list | tuple) and isinstance(times, int) and len(text) * times > MAX_LETTER_CHARS:
                raise LetterTooBig("de brief wordt te lang")
        return super().call_binop(context, operator, left, right)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        loop = next(iter(tree.find_all(nodes.For)), None)
        if loop is not None:
            raise TemplateSyntaxError("een brief kan geen herhaling ({% for %}) bevatten", loop.lineno, name, filename)
        return tree


class LetterBook:
    """The letters of one package, by name (`ontvangstbevestiging`, `skar/voortgang`)."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        # {"skar/voortgang.txt": "..."} -> templates by name without the suffix
        self.texts = {name.removesuffix(".txt"): text for name, text in texts.items()}
        self._env: SandboxedEnvironment | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"texts": self.texts}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.texts, self._env = state["texts"], None

    @property
    def environment(self) -> SandboxedEnvironment:
        if self._env is None:
            # Data in letters comes from complainants: the sandbox keeps templates from reaching Python internals.
            env = _LetterEnvironment(loader=DictLoader(self.texts), undefined=ChainableUndefined,
                                     keep_trailing_newline=True, autoescape=False)
            env.filters["datum"] = long_date  # {{ termijn_maatregelen | datum }} -> 15 mei 2026
            self._env = env
        return self._env

    def exists(self, name: str) -> bool:
        return name in self.texts

    def names(self) -> list[str]:
        return sorted(n for n in self.texts if n != PORTAL)

    def placeholders(self, name: str) -> set[str]:
        """The names a letter reads from the complaint's data (raises TemplateSyntaxError)."""
        tree = self.environment.parse(self.texts[name])
        # A name the letter sets itself (also inside an {% if %} branch) is not read from the data.
        own = {n.name for node in tree.find_all((nodes.Assign, nodes.For)) for n in node.target.find_all(nodes.Name)}
        return meta.find_undeclared_variables(tree) - own

    def render(self, name: str, data: Mapping[str, Any], step: Any,
               portal_link: str | None = None) -> tuple[str, str]:
        """(subject, body) of a letter; with `portal_link`, the paragraph with the complainant's link."""
        try:
            tpl = self.environment.get_template(name)
        except TemplateNotFound as exc:
            raise ValueError(f"letter template '{name}' does not exist") from exc
        context = {**data, "organisatie": step.organisation_name, "referentie": step.reference}
        text = tpl.render(context)
        if len(text) > MAX_LETTER_CHARS:
            raise LetterTooBig("de brief wordt te lang")
        # A typed value that ends a sentence itself ("in de hal.") gives "hal.." in the template's sentence.
        text = _DOUBLE_STOP.sub(r"\1", text)
        subject, _, body = text.partition("\n")
        body = body.lstrip("\n")
        if portal_link and self.exists(PORTAL):
            paragraph = self.environment.get_template(PORTAL).render({**context, "link": portal_link}).strip()
            body = _with_link(body, paragraph)
        return subject.strip(), body


__all__ = ["LETTERS_ROOT", "MAX_LETTER_CHARS", "LetterBook", "LetterTooBig", "TemplateSyntaxError"]


CLOSINGS = ("Met vriendelijke groet", "Met vriendelijke groeten", "Hartelijke groet", "Groet,")


def _with_link(body: str, paragraph: str) -> str:
    """The link paragraph before the closing greeting (or at the end when there is none)."""
    lines = body.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].strip().startswith(CLOSINGS):
            return "\n".join([*lines[:i], paragraph, "", *lines[i:]])
    return body.rstrip("\n") + "\n\n" + paragraph + "\n"
