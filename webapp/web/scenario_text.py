"""A failing scenario in the process owner's words: which scenario, which step, what was
expected and what happened. The scenario runner reports in English for the command line
(`klachtroute verify`); the modeller shows this translation, with element names for ids."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

_HEAD = re.compile(r"^scenario '(?P<name>.+?)' faalt: (?P<rest>.*)$", re.S)
_STEP = re.compile(r"^step (?P<number>\d+) \(line (?P<line>[^)]+)\): (?P<rest>.*)$", re.S)
_FINAL = re.compile(r"^final expectations: (?P<rest>.*)$", re.S)
STATUS = {"running": "loopt", "completed": "afgesloten"}
FOLLOW_UP = "'Maatregel gerealiseerd?'"
MEASURE_FIELDS = {"description": "de omschrijving", "role": "de verantwoordelijke rol", "person": "de verantwoordelijke",
                  "location": "de locatie", "due": "de beloofde datum", "status": "de status", "scope": "de soort",
                  "outcome": "de toelichting", "feedback": "een brief aan de klager na realisatie",
                  "follow_up": f"de taak {FOLLOW_UP} open", "overdue": "te laat"}
VALUES = {"True": "ja", "False": "nee", "None": "leeg"}


def _list(text: str, names: Mapping[str, str]) -> str:
    """"['A', 'B']" -> "A, B"; ids become names; "none" / "[]" -> "niets"."""
    text = text.strip()
    if text in ("none", "[]", "nowhere yet"):
        return "niets"
    items = re.findall(r"'([^']*)'", text) if text.startswith("[") else [text.strip("'")]
    return ", ".join(f"'{names.get(i, i)}'" for i in items) or "niets"


def _rules(names: Mapping[str, str]) -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]]:
    def n(value: str) -> str:
        return names.get(value, value)

    def lst(value: str) -> str:
        return _list(value, names)

    return [(re.compile(p, re.S), f) for p, f in (
        (r"^task '(.+)' is not ready; ready: (.*)$",
         lambda m: f"verwacht dat de taak '{n(m[1])}' klaarstaat, maar klaar staat: {lst(m[2])}"),
        (r"^task '(.+)' is not ready$", lambda m: f"verwacht dat de taak '{n(m[1])}' klaarstaat, maar die staat niet klaar"),
        (r"^task '(.+)' is for role '(.+)', expected '(.+)'$",
         lambda m: f"verwacht dat de taak '{m[1]}' bij de rol '{m[3]}' ligt, maar zij ligt bij '{m[2]}'"),
        (r"^task '(.+)' is due (.+), expected (.+)$",
         lambda m: f"verwacht dat de taak '{m[1]}' als termijn {m[3]} heeft, maar die is {m[2]}"),
        (r"^task '(.+)' is in lane '(.+)', which maps to no role$",
         lambda m: f"de taak '{m[1]}' ligt in de lane '{m[2]}', die bij geen rol hoort"),
        (r"^unexpected ready task\(s\): (.*)$", lambda m: f"er staat onverwacht klaar: {lst(m[1])}"),
        (r"^ready: (.*)$", lambda m: f"klaar staan: {lst(m[1])}"),
        (r"^letters sent: (.*), expected (.*)$",
         lambda m: f"verwacht dat de brieven {lst(m[2])} verstuurd zijn, maar verstuurd is: {lst(m[1])}"),
        (r"^no notification to role\(s\) (.*); notified: (.*)$",
         lambda m: f"verwacht een melding aan {lst(m[1])}, maar gemeld is aan: {lst(m[2])}"),
        (r"^status is '(.+)', expected '(.+)'$",
         lambda m: f"verwacht dat de klacht {STATUS.get(m[2], m[2])} is, maar zij {STATUS.get(m[1], m[1])}"),
        (r"^end event '(.+)' not reached; reached: (.*)$",
         lambda m: f"verwacht dat het einde '{n(m[1])}' bereikt wordt, maar bereikt is: {lst(m[2])}"),
        (r"^element '(.+)' was not passed$", lambda m: f"verwacht dat '{n(m[1])}' doorlopen wordt, maar dat gebeurde niet"),
        (r"^element '(.+)' was passed, expected not$",
         lambda m: f"verwacht dat '{n(m[1])}' niet doorlopen wordt, maar dat gebeurde wel"),
        (r"^timers fired: (.*), expected (.*)$",
         lambda m: f"verwacht dat de termijnen {lst(m[2])} verstrijken, maar verstreken zijn: {lst(m[1])}"),
        (r"^gateway '(.+)' went to (.*), expected '(.+)'$",
         lambda m: f"verwacht dat het besluit '{n(m[1])}' naar '{n(m[3])}' leidt, maar het leidde naar {lst(m[2])}"),
        (r"^data '(.+)' is (.*), expected (.*)$",
         lambda m: f"verwacht dat het gegeven '{m[1]}' {m[3]} is, maar het is {m[2]}"),
        (r"^next deadline is (.*), expected (.*)$",
         lambda m: f"verwacht als volgende termijn {m[2]}, maar die is {m[1]}"),
        (r"^measure '(.*)': (\w+) is (.*), expected (.*)$",
         lambda m: f"verwacht bij de maatregel '{m[1]}' als {MEASURE_FIELDS.get(m[2], m[2])} "
                   f"{VALUES.get(m[4], m[4])}, maar dat is {VALUES.get(m[3], m[3])}"),
        (r"^measures recorded: (.*), expected (\d+)$",
         lambda m: f"verwacht {m[2]} maatregel(en) in het register, maar vastgelegd is: {lst(m[1])}"),
        (r"^measures mentioning '(.*)': (\d+), expected one, of (.*)$",
         lambda m: f"verwacht één maatregel met '{m[1]}', maar dat zijn er {m[2]}; de maatregelen: {lst(m[3])}"),
        (r"^no follow-up waits for a measure mentioning '(.*)'$",
         lambda m: f"verwacht dat de taak {FOLLOW_UP} klaarstaat voor de maatregel '{m[1]}', maar die staat niet klaar"),
        (r"^follow-up has not arrived for '(.*)' \(promised (.+), status (.+)\)$",
         lambda m: f"de taak {FOLLOW_UP} voor de maatregel '{m[1]}' staat niet klaar (beloofd op {m[2]}, status {m[3]})"),
        (r"^follow-up for '(.*)' is for role '(.+)', expected '(.+)'$",
         lambda m: f"verwacht dat de taak {FOLLOW_UP} voor '{m[1]}' bij de rol '{m[3]}' ligt, maar zij ligt bij '{m[2]}'"),
        (r"^follow-up for '(.*)' arrived on (.+), expected (.+)$",
         lambda m: f"verwacht dat de taak {FOLLOW_UP} voor '{m[1]}' op {m[3]} komt, maar zij kwam op {m[2]}"),
        (r"^follow-up for '(.*)' was not announced to role '(.+)'$",
         lambda m: f"de rol '{m[2]}' kreeg geen melding van de taak {FOLLOW_UP} voor '{m[1]}'"),
        (r"^unexpected follow-up for: (.*)$", lambda m: f"onverwacht staat {FOLLOW_UP} klaar voor: {lst(m[1])}"),
        (r"^overdue on the quality officer's overview: (.*), expected (.*)$",
         lambda m: f"verwacht als te laat op het overzicht van de kwaliteitsfunctionaris: {lst(m[2])}, "
                   f"maar daar staat: {lst(m[1])}"),
        (r"^expected an error with '(.+)', but the step succeeded$",
         lambda m: f"verwacht dat deze stap geweigerd wordt ('{m[1]}'), maar hij lukte"),
        (r"^expected an error with '(.+)', got: (.*)$",
         lambda m: f"verwacht de fout '{m[1]}', maar de fout was: {m[2]}"),
    )]


def _part(text: str, rules) -> str:
    for pattern, render in rules:
        match = pattern.match(text.strip())
        if match:
            return render(match)
    return text.strip()


def explain(message: str, names: Mapping[str, str] | None = None) -> str | None:
    """The Dutch explanation of a scenario problem's message, or None when it is no scenario failure."""
    head = _HEAD.match(message)
    if head is None:
        return None
    rules = _rules(names or {})
    rest, where = head["rest"], f"Scenario '{head['name']}'"
    if step := _STEP.match(rest):
        where += f", stap {step['number']} (regel {step['line']} van het scenario)"
        rest = step["rest"]
    elif final := _FINAL.match(rest):
        where += ", aan het eind"
        rest = final["rest"]
    parts = [_part(p, rules) for p in re.split(r"; (?=[a-z])", rest) if p.strip()]
    return f"{where}: " + "; ".join(parts) + "."
