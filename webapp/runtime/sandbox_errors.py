"""What diagram code may not do, said once: the limits, the refusal codes and their Dutch messages.

Every refusal of the expression gate (`expressions.py`) and of the run-time guards
(`guards.py`) is a `SandboxViolation` with a stable `code` and `params`; its message
comes from `MESSAGES`, so the process owner reads the same Dutch sentence in the
modeller, in `klachtroute check` and in an incident.
"""

from __future__ import annotations

from typing import Any

# Spiff's own line-number lookup searches tracebacks for this file name.
FILENAME = "<string>"

MAX_SOURCE_CHARS = 10_000      # one expression or script
MAX_DEPTH = 50                 # nesting of the syntax tree
MAX_INT_BITS = 4_000           # any integer a guarded operator produces (about 1,200 digits)
MAX_SIZE = 100_000             # characters of a string, or elements of a collection counted deep
MAX_ALLOCATED = 1_000_000      # characters and elements one evaluation may create in total
MAX_FORMAT_WIDTH = 100         # width and precision in an f-string's format spec
DEFAULT_BUDGET_SECONDS = 2.0   # wall-clock time of one evaluation; see guards.Budget

MESSAGES: dict[str, str] = {
    "not_a_string": "Diagramcode moet tekst zijn, geen {type}.",
    "syntax": "Regel {line} is geen geldige code ({detail}){text}.",
    "too_long": "De code is te lang: {length} tekens, ten hoogste {limit} zijn toegestaan.",
    "too_deep": "De code is te diep genest: ten hoogste {limit} niveaus zijn toegestaan.",
    "loop": "Lussen (for/while) zijn niet toegestaan in een diagram: schrijf het als één expressie.",
    "comprehension": "Lijst-, verzameling- en generatorexpressies met 'for' zijn niet toegestaan in een "
                     "diagram: schrijf de waarden uit.",
    "function_definition": "Functies en klassen definiëren ({what}) kan niet in een diagram.",
    "import": "Importeren ('{statement}') is niet toegestaan in een diagram.",
    "statement_not_allowed": "De opdracht '{what}' is niet toegestaan in een diagram: alleen toewijzingen "
                             "(x = ...), if/else en pass.",
    "syntax_not_allowed": "{what} is niet toegestaan in een diagram.",
    "assignment_target": "Toewijzen kan alleen aan een naam of aan een veld: x = ... of x['veld'] = ....",
    "private_name": "Namen die met '_' beginnen zijn niet toegestaan in een diagram: '{name}'.",
    "unknown_function": "De functie '{name}' is niet beschikbaar in diagrammen.",
    "name_not_available": "De naam '{name}' is niet beschikbaar in diagrammen.",
    "attribute": "Eigenschappen opvragen ('.{name}') kan niet in een diagram: lees een veld als x['veld'] "
                 "of roep een toegestane methode aan, zoals x.get('veld').",
    "method_not_allowed": "De methode '.{name}()' is niet toegestaan in diagrammen.",
    "method_not_for_type": "De methode '.{name}()' is niet toegestaan op een waarde van het type {type}.",
    "string_format": "Tekst opmaken met {what} is niet toegestaan in diagrammen: gebruik + of een f-string.",
    "format_spec": "De opmaak ':{spec}' in een f-string is niet toegestaan: breedte en precisie ten hoogste "
                   "{limit}, zonder expressies.",
    "number_too_large": "Het getal wordt te groot (meer dan {limit} bits) bij '{operator}'.",
    "constant_too_large": "Het getal in de code is te groot (meer dan {limit} bits).",
    "too_large": "De waarde wordt te groot bij {what}: meer dan {limit} tekens of elementen.",
    "not_changeable": "Alleen lijsten en woordenboeken (dict) kunnen worden gewijzigd, geen {type}.",
    "argument_not_allowed": "De functie '{name}' accepteert hier alleen {what}.",
    "memory": "Deze stap maakt te veel gegevens aan: meer dan {limit} tekens of elementen in totaal.",
    "budget": "Deze stap duurt te lang: meer dan {seconds} seconde rekentijd. De stap is afgebroken.",
    "engine_steps": "Deze stap doorloopt meer dan {limit} onderdelen van het diagram zonder te wachten: "
                    "waarschijnlijk een lus zonder uitgang. De stap is afgebroken.",
}


class SandboxViolation(Exception):
    """Diagram code asked for something the sandbox refuses.

    `code` is stable (tests and callers match on it), `params` fill the Dutch message.
    """

    def __init__(self, code: str, lineno: int | None = None, **params: Any) -> None:
        self.code = code
        self.params = params
        self.message = MESSAGES[code].format(**params)
        self.lineno = lineno
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class SandboxSyntaxError(SandboxViolation, SyntaxError):
    """Diagram code that is not valid Python.

    Also a `SyntaxError`: SpiffWorkflow's DMN engine catches SyntaxError from
    `validate()`, and WorkflowTaskException reads `lineno`/`offset` from it.
    """

    def __init__(self, lineno: int | None, offset: int | None, text: str | None, detail: str) -> None:
        shown = (text or "").strip()
        super().__init__("syntax", lineno, line=lineno or "?", detail=detail,
                         text=f": {shown!r}" if shown else "")
        self.msg = self.message
        self.offset = offset
        self.text = text
        self.filename = FILENAME


class StepBudgetExceeded(SandboxViolation):
    """A step ran out of its time or memory budget; the runtime rolls the step back."""
