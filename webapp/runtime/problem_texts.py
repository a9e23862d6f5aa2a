"""The Dutch text of a diagram check's problems: one catalogue for the modeller, the command
line and every other reader. The static checks and the scenario runner speak English (stable
messages their tests match on); what a process owner reads is translated here."""

from __future__ import annotations

import re
from dataclasses import replace

from .errors import DiagramProblem

# The static checks speak English (they are shared with the CLI); the modeller speaks Dutch.
DUTCH_PROBLEMS: list[tuple[re.Pattern[str], str]] = [(re.compile(p), r) for p, r in (
    (r"^XML is not well-formed: (.*)$", r"het bestand is geen geldige XML: \1"),
    (r"^user task has no form: .*$", "deze gebruikerstaak heeft geen formulier: kies er een in het zijpaneel"),
    (r"^element has no name: .*$", "dit element heeft geen naam: geef elk element een Nederlandse naam"),
    (r"^lane has no name, .*$", "deze lane heeft geen naam en dus geen rol"),
    (r"^lane '(.+)' maps to no role: .*$", r"de lane '\1' hoort bij geen rol in organisation.yaml: kies in het "
                                           r"zijpaneel een rol, of vraag de beheerder de naam toe te voegen"),
    (r"^element lies in no lane, .*$", "dit element ligt in geen enkele lane, dus geen rol kan het uitvoeren"),
    (r"^service task names no operator .*$", "deze servicetaak heeft geen operator: kies er een in het zijpaneel"),
    (r"^unknown operator '(.+)' \(known: (.+)\)$", r"onbekende operator '\1' (bekend: \2)"),
    (r"^operator '(.+)' needs the parameter '(.+)'$", r"operator '\1' heeft de parameter '\2' nodig"),
    (r"^operator '(.+)' has no parameter '(.+)'$", r"operator '\1' kent geen parameter '\2'"),
    (r"^letter template '(.+)' does not exist .*$", r"de brief '\1' bestaat niet bij de brieven van deze procedure"),
    (r"^form '(.+)' does not exist.*$", r"het formulier '\1' bestaat niet in forms/"),
    (r"^form '(.+)' is not valid JSON: (.*)$", r"het formulier '\1' is geen geldige JSON: \2"),
    (r"^form '(.+)' is not a valid JSON Schema: (.*)$", r"het formulier '\1' is geen geldig JSON Schema: \2"),
    (r"^UI schema '(.+)' does not exist in forms/$", r"het UI-schema '\1' bestaat niet in forms/"),
    (r"^empty condition$", "lege voorwaarde: vul een voorwaarde in of maak dit het standaardpad"),
    (r"^empty timer expression$", "lege termijn: vul in het zijpaneel een termijn in"),
    (r"^empty message payload$", "lege berichtinhoud"),
    (r"^\w+ has no shape in the diagram \(BPMN DI\)$", "dit element staat niet in de tekening (BPMN DI)"),
    (r"^sequence flow has no edge in the diagram \(BPMN DI\)$", "deze pijl staat niet in de tekening (BPMN DI)"),
    (r"^overlaps '(.+)' \((.+)\) in the diagram$", r"overlapt '\1' (\2) in de tekening"),
    (r"^lies outside its lane '(.+)' in the diagram$", r"ligt buiten zijn lane '\1' in de tekening"),
    (r"^(\w+) points to '(.+)', which does not exist$", r"verwijst naar '\2', maar dat element bestaat niet"),
    (r"^the diagram has no process with id '(.+)' \(found: (.*)\)$",
     r"het diagram heeft geen proces met id '\1' (gevonden: \2)"),
    (r"^diagram is (\d+) KB; the limit is (\d+) MB$", r"het diagram is \1 kB; de grens is \2 MB"),
    (r"^cannot read the diagram: (.*)$", r"het diagram kan niet worden gelezen: \1"),
    (r"^bpmnlint is not installed.*$", "de tekeningcontrole (bpmnlint) is niet geïnstalleerd: vraag de beheerder"),
    (r"^bpmnlint failed: (.*)$", r"de tekeningcontrole (bpmnlint) liep vast: \1"),
    # bpmnlint's recommended rules, one Dutch cause each (the element is named beside it).
    (r"^bpmnlint label-required: .*$", "dit element heeft geen naam: geef elk element een Nederlandse naam"),
    (r"^bpmnlint no-disconnected: .*$", "dit element is met niets verbonden: trek een pijl erheen en ervandaan"),
    (r"^bpmnlint no-implicit-split: .*$", "hier splitst de stroom zonder gateway: zet er een gateway voor"),
    (r"^bpmnlint no-implicit-end: .*$", "hier eindigt de stroom zonder eindgebeurtenis: voeg een einde toe"),
    (r"^bpmnlint no-implicit-start: .*$", "hier begint de stroom zonder startgebeurtenis"),
    (r"^bpmnlint end-event-required: .*$", "het proces heeft geen eindgebeurtenis"),
    (r"^bpmnlint start-event-required: .*$", "het proces heeft geen startgebeurtenis"),
    (r"^bpmnlint single-blank-start-event: .*$", "het proces heeft meer dan één lege startgebeurtenis"),
    (r"^bpmnlint fake-join: .*$", "hier komen pijlen samen zonder gateway: voeg een samenvoegende gateway toe"),
    (r"^bpmnlint no-gateway-join-fork: .*$", "deze gateway voegt samen en splitst tegelijk: gebruik er twee"),
    (r"^bpmnlint superfluous-gateway: .*$", "deze gateway heeft maar één in- en uitgang en is overbodig"),
    (r"^bpmnlint conditional-flows: .*$", "een pijl uit deze gateway heeft geen voorwaarde en is geen standaardpad"),
    (r"^bpmnlint no-duplicate-sequence-flows: .*$", "twee pijlen verbinden dezelfde elementen"),
    (r"^bpmnlint no-complex-gateway: .*$", "een complexe gateway wordt niet ondersteund"),
    (r"^bpmnlint no-inclusive-gateway: .*$", "een inclusieve gateway wordt niet ondersteund"),
    (r"^bpmnlint no-overlapping-elements: .*$", "dit element overlapt een ander in de tekening"),
    (r"^bpmnlint no-bpmndi: .*$", "dit element staat niet in de tekening (BPMN DI)"),
    (r"^bpmnlint single-event-definition: .*$", "deze gebeurtenis heeft meer dan één soort (timer, bericht, ...)"),
    (r"^bpmnlint event-based-gateway: .*$", "na een event-gateway mogen alleen wachtende gebeurtenissen volgen"),
    (r"^bpmnlint link-event: .*$", "deze link-gebeurtenis heeft geen passende tegenhanger"),
    (r"^bpmnlint superfluous-termination: .*$", "deze beëindigende eindgebeurtenis is overbodig"),
    (r"^bpmnlint sub-process-blank-start-event: .*$", "een subproces moet met een lege startgebeurtenis beginnen"),
    (r"^bpmnlint ([\w-]+): (.*)$", r"tekeningcontrole (\1): \2"),
)]


def in_dutch(problem: DiagramProblem) -> DiagramProblem:
    """The problem as a process owner reads it (unchanged when it is Dutch already)."""
    for pattern, replacement in DUTCH_PROBLEMS:
        if pattern.match(problem.message):
            return replace(problem, message=pattern.sub(replacement, problem.message))
    return problem
