"""Letter templates (Dutch), one `.txt` per letter: the first line is the subject.

Templates are Jinja2 text with the task data and `organisatie`, `referentie`.
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


def render_letter(template: str, data: Mapping[str, Any], step: Any) -> tuple[str, str]:
    try:
        tpl = _environment().get_template(f"{template}.txt")
    except TemplateNotFound as exc:
        raise ValueError(f"letter template '{template}' does not exist") from exc
    text = tpl.render({**data, "organisatie": step.organisation_name, "referentie": step.reference})
    # A typed value that ends a sentence itself ("in de hal.") gives "hal.." in the template's sentence.
    text = _DOUBLE_STOP.sub(r"\1", text)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")
