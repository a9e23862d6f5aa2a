"""The problems of a diagram check as the modeller shows them: in Dutch (the static checks and
the scenario runner speak English, shared with the command line), a failing scenario explained
in the process owner's words, element ids named."""

from __future__ import annotations

from typing import Any

from webapp.runtime.diagrams import parse_xml
from webapp.runtime.errors import DiagramError, DiagramProblem
from webapp.runtime.problem_texts import in_dutch

from . import scenario_text


def problem_json(problem: DiagramProblem, names: dict[str, str] | None = None) -> dict[str, Any]:
    message = problem.message
    explained = scenario_text.explain(message, names)
    message = explained if explained is not None else in_dutch(problem).message
    return {"message": message, "file": problem.file, "element_id": problem.element_id,
            "element_name": problem.element_name, "line": problem.line,
            "scenario": explained is not None}


def element_names(xml: str) -> dict[str, str]:
    """Element id -> name in a draft, to name elements in a failing scenario's explanation."""
    try:
        root = parse_xml(xml, "diagram.bpmn")
    except DiagramError:
        return {}
    return {e.get("id"): e.get("name") for e in root.iter() if isinstance(e.tag, str) and e.get("id") and e.get("name")}
