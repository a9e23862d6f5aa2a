"""Letter templates (Dutch), one `.txt` per letter: the first line is the subject.

Templates are Jinja2 text with the task data and `organisatie`, `referentie`.
A letter to the complainant carries their personal link (`_portal/default.txt`, or the organisation's
own `_portal/<slug>.txt`), placed before the closing greeting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, FileSystemLoader, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from handlers.dutch import long_date

LETTERS_ROOT = Path(__file__).parent
_DOUBLE_STOP = re.compile(r"(?<!\.)([.!?])\.(?!\.)")


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    # Data in letters comes from complainants: the sandbox keeps templates from reaching Python internals.
    env = SandboxedEnvironment(loader=FileSystemLoader(str(LETTERS_ROOT)), undefined=ChainableUndefined,
                               keep_trailing_newline=True, autoescape=False)
    env.filters["datum"] = long_date  # {{ termijn_maatregelen | datum }} -> 15 mei 2026
    return env


def letter_exists(template: str) -> bool:
    return (LETTERS_ROOT / f"{template}.txt").is_file()


CLOSINGS = ("Met vriendelijke groet", "Met vriendelijke groeten", "Hartelijke groet", "Groet,")


def render_letter(template: str, data: Mapping[str, Any], step: Any,
                  portal_link: str | None = None) -> tuple[str, str]:
    """(subject, body) of a letter; with `portal_link`, the paragraph with the complainant's link."""
    try:
        tpl = _environment().get_template(f"{template}.txt")
    except TemplateNotFound as exc:
        raise ValueError(f"letter template '{template}' does not exist") from exc
    context = {**data, "organisatie": step.organisation_name, "referentie": step.reference}
    text = tpl.render(context)
    # A typed value that ends a sentence itself ("in de hal.") gives "hal.." in the template's sentence.
    text = _DOUBLE_STOP.sub(r"\1", text)
    subject, _, body = text.partition("\n")
    body = body.lstrip("\n")
    if portal_link:
        body = _with_link(body, _link_paragraph(step.organisation_slug, {**context, "link": portal_link}))
    return subject.strip(), body


def _link_paragraph(slug: str, context: Mapping[str, Any]) -> str:
    own = f"_portal/{slug}"
    name = own if letter_exists(own) else "_portal/default"
    return _environment().get_template(f"{name}.txt").render(context).strip()


def _with_link(body: str, paragraph: str) -> str:
    """The link paragraph before the closing greeting (or at the end when there is none)."""
    lines = body.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].strip().startswith(CLOSINGS):
            return "\n".join([*lines[:i], paragraph, "", *lines[i:]])
    return body.rstrip("\n") + "\n\n" + paragraph + "\n"
