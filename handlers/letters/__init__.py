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
from jinja2.sandbox import SandboxedEnvironment

from handlers.dutch import long_date

LETTERS_ROOT = Path(__file__).parent
PORTAL = "_portal"
_DOUBLE_STOP = re.compile(r"(?<!\.)([.!?])\.(?!\.)")


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
            env = SandboxedEnvironment(loader=DictLoader(self.texts), undefined=ChainableUndefined,
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
        # A typed value that ends a sentence itself ("in de hal.") gives "hal.." in the template's sentence.
        text = _DOUBLE_STOP.sub(r"\1", text)
        subject, _, body = text.partition("\n")
        body = body.lstrip("\n")
        if portal_link and self.exists(PORTAL):
            paragraph = self.environment.get_template(PORTAL).render({**context, "link": portal_link}).strip()
            body = _with_link(body, paragraph)
        return subject.strip(), body


__all__ = ["LETTERS_ROOT", "LetterBook", "TemplateSyntaxError"]


CLOSINGS = ("Met vriendelijke groet", "Met vriendelijke groeten", "Hartelijke groet", "Groet,")


def _with_link(body: str, paragraph: str) -> str:
    """The link paragraph before the closing greeting (or at the end when there is none)."""
    lines = body.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].strip().startswith(CLOSINGS):
            return "\n".join([*lines[:i], paragraph, "", *lines[i:]])
    return body.rstrip("\n") + "\n\n" + paragraph + "\n"
