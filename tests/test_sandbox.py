"""The diagram sandbox: the expression gate, the run-time guards and budget, driven through the
real SpiffWorkflow engine and the real diagrams in bpmn/.

Small BPMN strings check that gateway conditions, timers, script tasks and service tasks
really go through SandboxedScriptEngine; a corpus of hostile code checks that the gate
refuses each with a stable code and a Dutch message; every expression and script of the
five real procedures is read from their .bpmn files and must evaluate exactly as
SpiffWorkflow's own (unrestricted) engine evaluates it.
"""

from __future__ import annotations

import ast
import itertools
import sys
import time
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from handlers.working_days import WorkingDayCalendar, diagram_functions
from webapp.runtime import clock
from webapp.runtime.checks import check_organisation
from webapp.runtime.guards import GUARDS
from webapp.runtime.instructions import check_instructions, render_instructions
from webapp.runtime.organisations import BPMN_ROOT, load_config
from webapp.runtime.sandbox import (
    ALLOWED_BUILTINS,
    SandboxedScriptEngine,
    SandboxEnvironment,
    SandboxSyntaxError,
    SandboxViolation,
    StepBudgetExceeded,
    check_expression,
    check_script,
)
from webapp.runtime.sandbox_errors import MESSAGES

NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
)
GUARD_NAMES = set(GUARDS)


# -- diagram helpers ---------------------------------------------------------------------


def definitions(body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NAMESPACES} id="defs" '
        f'targetNamespace="http://example.org/klachtroute">'
        f'<bpmn:process id="P" isExecutable="true">{body}</bpmn:process></bpmn:definitions>'
    ).encode()


def script_task(task_id: str, script: str) -> str:
    return f'<bpmn:scriptTask id="{task_id}" name="{task_id}"><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>'


def linear(*nodes: tuple[str, str]) -> bytes:
    """start -> nodes... -> end; each node is (id, xml)."""
    ids = ["start", *(node_id for node_id, _ in nodes), "end"]
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>' for i, (a, b) in enumerate(itertools.pairwise(ids))
    )
    body = '<bpmn:startEvent id="start"/>' + "".join(xml for _, xml in nodes) + '<bpmn:endEvent id="end"/>' + flows
    return definitions(body)


def workflow_for(xml: bytes, engine: SandboxedScriptEngine | None = None, **data) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml)
    workflow = BpmnWorkflow(parser.get_spec("P"), parser.get_subprocess_specs("P"),
                            script_engine=engine or SandboxedScriptEngine())
    # Data put on the ready start event flows on to every later task.
    workflow.get_tasks(state=TaskState.READY)[0].data.update(data)
    return workflow


def data_of(workflow: BpmnWorkflow, spec_name: str) -> dict:
    return workflow.get_tasks(spec_name=spec_name)[0].data


GATEWAY_DIAGRAM = definitions(
    '<bpmn:startEvent id="start"/>'
    '<bpmn:exclusiveGateway id="gw" default="to_normal"/>'
    + script_task("serious", "route = 'ernstig'")
    + script_task("normal", "route = 'normaal'")
    + '<bpmn:endEvent id="end_serious"/><bpmn:endEvent id="end_normal"/>'
    '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>'
    '<bpmn:sequenceFlow id="to_serious" sourceRef="gw" targetRef="serious">'
    "<bpmn:conditionExpression>\n    severity == 'ernstig' and len(tags) &gt; 1\n  </bpmn:conditionExpression>"
    "</bpmn:sequenceFlow>"
    '<bpmn:sequenceFlow id="to_normal" sourceRef="gw" targetRef="normal"/>'
    '<bpmn:sequenceFlow id="f3" sourceRef="serious" targetRef="end_serious"/>'
    '<bpmn:sequenceFlow id="f4" sourceRef="normal" targetRef="end_normal"/>'
)


# -- allowed code --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "tags", "route"),
    [
        ("ernstig", ["agressie", "veiligheid"], "ernstig"),
        ("ernstig", ["agressie"], "normaal"),
        ("licht", ["a", "b", "c"], "normaal"),
    ],
)
def test_gateway_condition_routes(severity, tags, route):
    workflow = workflow_for(GATEWAY_DIAGRAM, severity=severity, tags=tags)
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert workflow.data["route"] == route


def test_script_task_assigns_variables_without_leftovers():
    script = (
        "# opmerkingen mogen\n"
        "total = a + b\n"
        "summary = {'total': total, 'tags': [tags[0].upper(), tags[1].upper()]}\n"
        "summary['count'] = len(summary['tags'])\n"
        "x += 1\n"
        "if max(a, b) == 3 and isinstance(tags, list):\n"
        "    route = 'hoog' if total > 3 else 'laag'\n"
        "else:\n"
        "    pass\n"
        "doubled = double(total)\n"
        "label = f'{total:>4}|{sorted(tags)[0]!r}'\n"
    )
    engine = SandboxedScriptEngine(functions={"double": lambda v: 2 * v})
    workflow = workflow_for(linear(("s", script_task("s", script))), engine, a=1, b=3, x=41, tags=["b", "a"])
    workflow.do_engine_steps()

    data = data_of(workflow, "s")
    assert data == {
        "a": 1, "b": 3, "x": 42, "tags": ["b", "a"], "total": 4,
        "summary": {"total": 4, "tags": ["B", "A"], "count": 2},
        "route": "hoog", "doubled": 8, "label": "   4|'a'",
    }
    # Spelled out: no builtins, guards or exposed functions in the task data.
    assert not GUARD_NAMES & data.keys()
    assert "double" not in data
    assert not [k for k, v in data.items() if callable(v)]


def test_exposed_function_is_callable_in_a_script_and_a_condition():
    engine = SandboxedScriptEngine(functions={"double": lambda v: 2 * v})
    workflow = workflow_for(linear(("s", script_task("s", "y = double(n)"))), engine, n=21)
    workflow.do_engine_steps()
    assert data_of(workflow, "s") == {"n": 21, "y": 42}
    assert engine.environment.evaluate("double(n) > 40", {"n": 21}) is True


def timer_diagram(kind: str, expression: str) -> bytes:
    timer = (
        f'<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        f"<bpmn:{kind}>{escape(expression)}</bpmn:{kind}>"
        f"</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )
    return linear(("wait", timer))


def test_timer_duration_uses_an_exposed_function():
    engine = SandboxedScriptEngine(functions={"double": lambda v: 2 * v})
    workflow = workflow_for(timer_diagram("timeDuration", "'P' + str(double(days)) + 'D'"), engine, days=2)
    before = datetime.now(UTC)
    workflow.do_engine_steps()

    (event,) = workflow.waiting_events()
    due = datetime.fromisoformat(event.value)
    assert before + timedelta(days=4) <= due <= datetime.now(UTC) + timedelta(days=4)


def test_timer_date_uses_the_working_day_calendar():
    calendar = WorkingDayCalendar()
    engine = SandboxedScriptEngine(functions=diagram_functions(calendar))
    received = "2036-04-24T10:00:00+02:00"  # in the future, so the timer waits
    workflow = workflow_for(timer_diagram("timeDate", "working_days_after(5, received_at)"), engine,
                            received_at=received)
    workflow.do_engine_steps()

    (event,) = workflow.waiting_events()
    assert event.value == calendar.working_days_after(5, received)


# -- every expression and script of the five real procedures ------------------------------------

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
EXPRESSION_PATHS = (".//bpmn:conditionExpression", ".//bpmn:timeDate", ".//bpmn:timeDuration",
                    ".//bpmn:timeCycle", ".//spiffworkflow:messagePayload")
SCRIPT_PATHS = (".//bpmn:script", ".//spiffworkflow:preScript", ".//spiffworkflow:postScript")
DIAGRAMS = sorted(BPMN_ROOT.glob("*/*.bpmn"))


def _owner_id(node: etree._Element) -> str:
    """The BPMN element a piece of code belongs to (what the checks report)."""
    while node is not None and not (node.get("id") and etree.QName(node).namespace == NS["bpmn"]
                                    and not etree.QName(node).localname.endswith("EventDefinition")):
        node = node.getparent()
    return node.get("id") if node is not None else "?"


def diagram_code() -> list[tuple[str, str, str]]:
    """(mode, source, where) for every piece of Python in bpmn/*/*.bpmn, read from the files."""
    found = []
    for path in DIAGRAMS:
        root = etree.parse(str(path)).getroot()
        where = f"{path.parent.name}/{path.name}"
        for xpath in EXPRESSION_PATHS:
            found += [("eval", node.text, f"{where}:{_owner_id(node)}") for node in root.iterfind(xpath, NS)]
        found += [("eval", node.get("value"), f"{where}:{_owner_id(node)}:{node.get('id')}")
                  for node in root.iterfind(".//spiffworkflow:parameter", NS)]
        for xpath in SCRIPT_PATHS:
            found += [("exec", node.text, f"{where}:{_owner_id(node)}") for node in root.iterfind(xpath, NS)]
    return found


DIAGRAM_CODE = diagram_code()
SAMPLE = {
    "ontvangen_op": "2026-03-02T09:30:00+01:00", "wkkgz_termijn": "2026-04-13T23:59:59+02:00",
    "wkkgz_verlenging_weken": 2, "verlenging_weken_leidinggevende": 3, "verlenging_weken_directeur": 4,
    "klager": {"naam": "J. de Vries", "email": "j.devries@example.org", "relatie": "ouder"},
    "referentie": "KR-2026-0042", "soort": "klacht", "kanaal": "email",
    # A message's payload (the portal's messages carry a dict).
    "reactie_klager": {"toelichting": "Ik heb nog een foto van de situatie."},
}
FUNCTIONS = diagram_functions(WorkingDayCalendar())


def sample_data(source: str, mode: str, unknown: object) -> dict:
    """A value for every variable the code reads: realistic where the type matters, else `unknown`."""
    tree = ast.parse(source.strip() if mode == "eval" else source, mode=mode)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    names -= set(FUNCTIONS) | ALLOWED_BUILTINS | {"True", "False", "None"}
    return {name: SAMPLE.get(name, unknown) for name in names}


def outcome(run) -> object:
    try:
        return ("value", run())
    except Exception as err:  # noqa: BLE001 - the point is that both engines fail alike
        return ("error", type(err).__name__)


def test_the_corpus_covers_the_five_procedures():
    assert {where.split("/")[0] for _, _, where in DIAGRAM_CODE} >= {
        "samen-kinderopvang", "skar", "mos", "kwartier", "korein"}
    assert {mode for mode, _, _ in DIAGRAM_CODE} == {"eval", "exec"}
    assert len(DIAGRAM_CODE) > 250


@pytest.mark.parametrize("unknown", ["waarde", True, False])
@pytest.mark.parametrize(("mode", "source", "where"), DIAGRAM_CODE, ids=[w for _, _, w in DIAGRAM_CODE])
def test_real_diagram_code_passes_the_gate_and_evaluates_as_in_spiffworkflow(mode, source, where, unknown):
    (check_expression if mode == "eval" else check_script)(source)
    ours, reference = SandboxEnvironment(FUNCTIONS), TaskDataEnvironment(FUNCTIONS)
    data = sample_data(source, mode, unknown)
    with clock.use_clock(clock.VirtualClock(datetime(2026, 3, 2, 8, 30, tzinfo=UTC))):
        if mode == "eval":
            mine = outcome(lambda: ours.evaluate(source, dict(data)))
            theirs = outcome(lambda: reference.evaluate(source.strip(), dict(data)))
        else:
            mine_data, their_data = dict(data), dict(data)
            mine = outcome(lambda: ours.execute(source, mine_data, {}) and mine_data)
            theirs = outcome(lambda: reference.execute(source, their_data, {}) and their_data)
    assert mine == theirs


@pytest.mark.parametrize("path", DIAGRAMS, ids=[f"{p.parent.name}/{p.name}" for p in DIAGRAMS])
def test_real_instructions_pass_and_render(path):
    nodes = etree.parse(str(path)).getroot().iterfind(".//spiffworkflow:instructionsForEndUser", NS)
    for node in nodes:
        check_instructions(node.text)
        text = render_instructions(node.text, {**SAMPLE, "wkkgz_termijn": "2026-04-13T23:59:59+02:00"})
        assert "{{" not in text and "{%" not in text


# -- refused at the gate ---------------------------------------------------------------------------

HOSTILE = [
    # escapes
    ("eval", "().__class__.__base__.__subclasses__()", "private_name"),
    ("eval", "type(1)", "unknown_function"),
    ("eval", "'{0.__class__}'.format(1)", "string_format"),
    ("eval", "'{x}'.format_map(a)", "string_format"),
    ("eval", "getattr(a, 'x')", "unknown_function"),
    ("eval", "__import__('os')", "private_name"),
    ("exec", "import os", "import"),
    ("exec", "from os import path", "import"),
    ("eval", "open('/etc/passwd')", "unknown_function"),
    ("eval", "eval('1')", "unknown_function"),
    ("exec", "exec('a = 2')", "unknown_function"),
    ("eval", "globals()", "unknown_function"),
    ("eval", "a._secret", "private_name"),
    ("eval", "_secret", "private_name"),
    ("eval", "a.real", "attribute"),
    ("eval", "s.ljust(10**9)", "method_not_allowed"),
    ("eval", "'%s' % 1", "string_format"),
    ("eval", "str(**a)", "syntax_not_allowed"),
    ("eval", "[*a]", "syntax_not_allowed"),
    ("eval", "(b := 1)", "syntax_not_allowed"),
    ("eval", "1j", "syntax_not_allowed"),
    ("eval", "a @ b", "syntax_not_allowed"),
    ("eval", "f'{a:>1000000000}'", "format_spec"),
    ("eval", "f'{a:{b}}'", "format_spec"),
    # loops and comprehensions
    ("exec", "while True: pass", "loop"),
    ("exec", "for x in y:\n    z = x", "loop"),
    ("eval", "[x for x in range(10**9)]", "comprehension"),
    ("eval", "{x: 1 for x in y}", "comprehension"),
    ("eval", "any(x for x in y)", "comprehension"),
    ("eval", "range(10)", "unknown_function"),
    # definitions
    ("eval", "lambda: 1", "function_definition"),
    ("eval", "(lambda: 1)()", "syntax_not_allowed"),
    ("exec", "def f():\n    return 1", "function_definition"),
    ("exec", "class A:\n    pass", "function_definition"),
    # statements and targets
    ("exec", "del a", "statement_not_allowed"),
    ("exec", "try:\n    a = 1\nexcept Exception:\n    pass", "statement_not_allowed"),
    ("exec", "with a as b:\n    pass", "statement_not_allowed"),
    ("exec", "a, b = 1, 2", "assignment_target"),
    ("exec", "a.b = 1", "assignment_target"),
    ("exec", "a[1:2] = []", "assignment_target"),
    # huge numbers and strings, computed with the guards before deploy
    ("eval", "10**10**8", "number_too_large"),
    ("eval", "2**100000", "number_too_large"),
    ("eval", "1 << 10**9", "number_too_large"),
    ("eval", "9**9**9**9", "number_too_large"),
    ("eval", "0x" + "f" * 1100, "constant_too_large"),
    ("eval", "'a' * 10**9", "too_large"),
    ("eval", "'a' * 10**5 * 10**5", "too_large"),
    ("exec", "x = 'ab' * 60000", "too_large"),
    # deep nesting and size, refused before the parser or compiler can crash
    ("eval", "(" * 200 + "1" + ")" * 200, "too_deep"),
    ("eval", "-" * 100000 + "1", "too_long"),
    ("eval", "-" * 9000 + "1", "too_deep"),
    ("eval", "not " * 2000 + "a", "too_deep"),
    ("eval", "a" + "[0]" * 3000, "too_deep"),
    ("eval", "1" + " + 1" * 2000, "too_deep"),
    ("eval", "[" * 60 + "]" * 60, "too_deep"),
]


@pytest.mark.parametrize(("mode", "source", "code"), HOSTILE, ids=[f"{c}:{s[:40]!r}" for _, s, c in HOSTILE])
def test_hostile_code_is_refused_at_the_gate_with_a_dutch_reason(mode, source, code):
    check = check_expression if mode == "eval" else check_script
    with pytest.raises(SandboxViolation) as caught:
        check(source)
    err = caught.value
    assert err.code == code
    assert str(err) == MESSAGES[code].format(**err.params)
    # The same gate stands before every evaluation.
    env = SandboxEnvironment(FUNCTIONS)
    with pytest.raises(SandboxViolation) as again:
        env.evaluate(source, {"a": {}}) if mode == "eval" else env.execute(source, {"a": {}}, {})
    assert again.value.code == code


@pytest.mark.parametrize(("source", "message"), [
    ("while True: pass", "Lussen (for/while) zijn niet toegestaan in een diagram: schrijf het als één expressie."),
    ("x = type(1)", "De functie 'type' is niet beschikbaar in diagrammen."),
    ("import os", "Importeren ('import os') is niet toegestaan in een diagram."),
    ("x = a.__class__", "Namen die met '_' beginnen zijn niet toegestaan in een diagram: '__class__'."),
    ("x = 10**10**8", "Het getal wordt te groot (meer dan 4000 bits) bij '**'."),
    ("x = 'a' * 10**9",
     "De waarde wordt te groot bij herhalen met *: meer dan 100000 tekens of elementen."),
    ("x = '{0.__class__}'.format(1)",
     "Tekst opmaken met .format() is niet toegestaan in diagrammen: gebruik + of een f-string."),
])
def test_refusals_read_as_dutch_sentences(source, message):
    with pytest.raises(SandboxViolation) as caught:
        check_script(source)
    assert str(caught.value) == message
    assert caught.value.lineno == 1


def test_check_expression_names_the_line_of_a_syntax_error():
    with pytest.raises(SandboxSyntaxError) as caught:
        check_expression("(severity == 'ernstig'\n and and len(tags) > 1)")
    assert caught.value.lineno == 2
    assert str(caught.value).startswith("Regel 2 is geen geldige code (invalid syntax)")
    assert isinstance(caught.value, SandboxViolation) and isinstance(caught.value, SyntaxError)


def test_check_script_names_the_line_of_a_syntax_error():
    with pytest.raises(SandboxSyntaxError, match="Regel 3 "):
        check_script("a = 1\nb = 2\nc = = 3\n")


def test_checks_accept_good_code_and_refuse_statements_as_expressions():
    check_expression("severity == 'ernstig' and len(tags) > 1")
    check_script("total = a + b\nx += 1\nd['k'] = [a, b]\nif x:\n    y = 1\nelse:\n    pass")
    with pytest.raises(SandboxSyntaxError):
        check_expression("x = 1")


def test_only_known_functions_can_be_called():
    check_expression("working_days_after(5, ontvangen_op)")  # handlers/ exposes it
    with pytest.raises(SandboxViolation) as caught:
        check_expression("werkdagen_na(5, ontvangen_op)")
    assert caught.value.code == "unknown_function"
    check_expression("double(n)", functions=["double"])


def test_engine_validate_uses_the_gate():
    engine = SandboxedScriptEngine()
    engine.validate("len(tags) > 1")
    with pytest.raises(SandboxViolation, match="__import__"):
        engine.validate("__import__('os')")
    # Spiff's DMN engine relies on validate() raising SyntaxError for bad syntax.
    with pytest.raises(SyntaxError):
        engine.validate("> 5")


def test_curated_builtins():
    assert {"len", "sorted", "isinstance", "str", "int", "bool", "dict"} <= ALLOWED_BUILTINS
    assert not {"open", "eval", "exec", "getattr", "__import__", "type", "globals", "range", "format",
                "enumerate", "zip", "map", "pow"} & ALLOWED_BUILTINS


def test_int_of_a_huge_string_stays_limited_by_python():
    env = SandboxEnvironment()
    with pytest.raises(ValueError, match="Exceeds the limit"):
        env.evaluate("int(s)", {"s": "9" * 5000})
    big = env.evaluate("int(s)", {"s": "9" * 4000})  # allowed, but it cannot grow much further
    with pytest.raises(SandboxViolation) as caught:
        env.evaluate("n * n", {"n": big})
    assert caught.value.code == "number_too_large"


# -- refused while running: the step fails, the task data stays as it was -------------------------

PREPARE = "a = 1\ntags = ['x']\ns = 'a' * 1000\nk = 1000000\nd = {'n': 1}"
PREPARED = {"a": 1, "tags": ["x"], "s": "a" * 1000, "k": 1000000, "d": {"n": 1}}
RUNTIME_REFUSALS = [
    ("a = 99\nleak = s.replace('a', s)", "too_large"),
    ("a = 99\nbig = s * 1000", "too_large"),
    ("a = 99\nl = [s] * 99\nm = [l, l]", "too_large"),
    ("a = 99\nd['self'] = [d, d, d]\nd['x'] = [s] * 99", "too_large"),
    ("a = 99\nn = 2 ** k", "number_too_large"),
    ("a = 99\nn = 1 << k", "number_too_large"),
    ("a = 99\nn = k * (10 ** 1000) * (10 ** 1000)", "number_too_large"),
    ("a = 99\nt = '%s' % a", "string_format"),
    ("a = 99\nname = 'x'\nname['k'] = 1", "not_changeable"),
    ("a = 99\nv = type", "name_not_available"),
    ("a = 99\nv = round(k, -k)", "argument_not_allowed"),
    ("a = 99\nv = sum([tags, tags], [])", "argument_not_allowed"),
    ("a = 99\nv = s.ljust(k)", "method_not_allowed"),
]


@pytest.mark.parametrize(("script", "code"), RUNTIME_REFUSALS, ids=[s for s, _ in RUNTIME_REFUSALS])
def test_refused_while_running_leaves_the_data_unchanged(script, code):
    xml = linear(("prepare", script_task("prepare", PREPARE)), ("bad", script_task("bad", script)))
    workflow = workflow_for(xml)

    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()

    cause = caught.value.__cause__
    assert isinstance(cause, SandboxViolation) and cause.code == code
    assert str(cause) in str(caught.value)
    assert data_of(workflow, "bad") == data_of(workflow, "prepare") == PREPARED
    assert not workflow.is_completed()


def test_import_in_a_diagram_keeps_the_sandbox_message_and_line():
    script = "total = 1\nsubject = 'klacht'\nimport os\n"
    workflow = workflow_for(linear(("bad", script_task("bad", script))))

    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()

    assert "Importeren ('import os') is niet toegestaan in een diagram." in str(caught.value)
    assert caught.value.line_number == 3
    assert caught.value.error_line == "import os"


@pytest.mark.parametrize(
    ("condition", "code"),
    [
        ("__import__('os').system('true')", "private_name"),
        ("open('/etc/passwd')", "unknown_function"),
        ("().__class__.__base__.__subclasses__()", "private_name"),
        ("any(t == 'x' for t in tags)", "comprehension"),
        ("tags[0] * 10**9 == 'x'", "too_large"),
    ],
)
def test_refused_gateway_condition_names_the_reason(condition, code):
    xml = GATEWAY_DIAGRAM.replace(b"severity == 'ernstig' and len(tags) &gt; 1", escape(condition).encode())
    workflow = workflow_for(xml, severity="ernstig", tags=["a", "b"])

    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()

    assert caught.value.__cause__.code == code
    assert str(caught.value.__cause__) in str(caught.value)
    assert condition in str(caught.value)
    assert data_of(workflow, "gw") == {"severity": "ernstig", "tags": ["a", "b"]}


def test_task_data_may_not_shadow_an_exposed_function():
    engine = SandboxedScriptEngine(functions={"double": lambda v: 2 * v})
    workflow = workflow_for(linear(("s", script_task("s", "y = 1"))), engine, double=3)
    with pytest.raises(WorkflowTaskException, match="overwrites a predefined function"):
        workflow.do_engine_steps()


def test_exposed_function_names_are_checked():
    with pytest.raises(ValueError, match="_hidden"):
        SandboxedScriptEngine(functions={"_hidden": len})
    with pytest.raises(ValueError, match="open"):
        SandboxedScriptEngine(functions={"open": len})


# -- the budget: time and memory of one evaluation ---------------------------------------------------


def test_a_slow_allowed_expression_is_aborted_by_the_time_budget():
    # Allowed by the gate, but a million working days is a long walk through the calendar.
    env = SandboxEnvironment(FUNCTIONS, budget_seconds=0.01)
    tracer = sys.gettrace()
    with pytest.raises(StepBudgetExceeded) as caught:
        env.evaluate("working_days_after(1000000, ontvangen_op)", {"ontvangen_op": SAMPLE["ontvangen_op"]})
    assert caught.value.code == "budget"
    assert str(caught.value) == "Deze stap duurt te lang: meer dan 0,01 seconde rekentijd. De stap is afgebroken."
    assert sys.gettrace() is tracer  # the trace function is gone once the evaluation is over
    assert env.evaluate("working_days_after(1, ontvangen_op)", {"ontvangen_op": SAMPLE["ontvangen_op"]})


def test_a_function_that_keeps_sleeping_is_aborted():
    def pause(steps: int) -> int:
        for _ in range(steps):
            time.sleep(0.005)
        return steps

    env = SandboxEnvironment({"pause": pause}, budget_seconds=0.05)
    assert env.evaluate("pause(1) + 1", {}) == 2
    with pytest.raises(StepBudgetExceeded):
        env.evaluate("pause(400) + 1", {})
    with pytest.raises(StepBudgetExceeded):
        env.execute("x = 1\ny = pause(400)", {}, {})


def test_the_default_budget_is_configurable(monkeypatch):
    from webapp.runtime import sandbox_errors

    monkeypatch.setattr(sandbox_errors, "DEFAULT_BUDGET_SECONDS", 0.01)
    with pytest.raises(StepBudgetExceeded):
        SandboxEnvironment(FUNCTIONS).evaluate("working_days_after(1000000, ontvangen_op)",
                                               {"ontvangen_op": SAMPLE["ontvangen_op"]})


def test_a_step_over_budget_fails_in_the_engine_and_leaves_the_timer_unset():
    engine = SandboxedScriptEngine(functions=FUNCTIONS, budget_seconds=0.01)
    workflow = workflow_for(timer_diagram("timeDate", "working_days_after(1000000, received_at)"), engine,
                            received_at=SAMPLE["ontvangen_op"])
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert isinstance(caught.value.__cause__, StepBudgetExceeded)
    assert workflow.waiting_events() == []


def test_creating_too_much_in_one_evaluation_exceeds_the_memory_budget():
    script = "\n".join(f"v{i} = s + '!'" for i in range(12))
    context = {"s": "x" * 99_000}
    with pytest.raises(StepBudgetExceeded) as caught:
        SandboxEnvironment().execute(script, context, {})
    assert caught.value.code == "memory"
    assert context == {"s": "x" * 99_000}
    SandboxEnvironment().execute(script.replace("s + '!'", "s[:10] + '!'"), context, {})  # small is fine
    assert context["v11"] == "xxxxxxxxxx!"


# -- the checks before deploy name the element, in Dutch -------------------------------------------


def _korein() -> tuple:
    config = load_config(BPMN_ROOT / "korein")
    xml, dependencies = config.read_diagram_files()
    return config, xml, dependencies


def _element_of(xml: str, xpath: str) -> str:
    return _owner_id(etree.fromstring(xml.encode()).xpath(xpath, namespaces=NS)[0])


@pytest.mark.parametrize(("xpath", "old", "new", "message"), [
    ("//bpmn:conditionExpression[text()='ernstig == True']", ">ernstig == True<",
     ">[x for x in range(10**9)]<",
     "voorwaarde: Lijst-, verzameling- en generatorexpressies met 'for' zijn niet toegestaan in een diagram: "
     "schrijf de waarden uit."),
    ("//bpmn:timeDate[text()='weeks_after(1, ontvangen_op)']", ">weeks_after(1, ontvangen_op)<",
     ">type(ontvangen_op)<", "termijn: De functie 'type' is niet beschikbaar in diagrammen."),
    ("//spiffworkflow:preScript", "<spiffworkflow:preScript>", "<spiffworkflow:preScript>x = 1\nwhile True: pass\n",
     "voorbereidend script (regel 2): Lussen (for/while) zijn niet toegestaan in een diagram: schrijf het als "
     "één expressie."),
    ("//spiffworkflow:parameter[@value=\"'korein/dank_voor_reactie'\"]", "value=\"'korein/dank_voor_reactie'\"",
     "value=\"'a' * 10**9\"",
     "parameter 'template': De waarde wordt te groot bij herhalen met *: meer dan 100000 tekens of elementen."),
    ("//spiffworkflow:instructionsForEndUser[contains(text(), 'soort | capitalize')]", "{{ soort | capitalize }}",
     "{% for i in range(100000) %}{{ i }}{% endfor %}",
     "instructie: Lussen (for/while) zijn niet toegestaan in een diagram: schrijf het als één expressie."),
])
def test_a_bad_expression_is_reported_with_its_element_and_a_dutch_reason(xpath, old, new, message):
    config, xml, dependencies = _korein()
    element_id = _element_of(xml, xpath)
    assert xml.count(old) >= 1
    bad = xml.replace(old, new, 1)

    problems = check_organisation(config, xml=bad, dependencies=dependencies, lint=False)

    assert [(p.element_id, p.message) for p in problems] == [(element_id, message)]
    assert problems[0].element_name and problems[0].line


# -- instructions ------------------------------------------------------------------------------------


def test_instructions_render_values_escaped():
    html = render_instructions("{{ soort | capitalize }} {{ referentie }} van {{ klager.naam }} tot "
                               "{{ termijn[:10] }}{% if spoed %} (spoed){% endif %}",
                               {"soort": "klacht", "referentie": "<b>KR-1</b>", "klager": {"naam": "An"},
                                "termijn": "2026-04-13T23:59:59+02:00", "spoed": True})
    assert html == "Klacht &lt;b&gt;KR-1&lt;/b&gt; van An tot 2026-04-13 (spoed)"


@pytest.mark.parametrize(("template", "code"), [
    ("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}", "loop"),
    ("{{ 'a' * 1000000000 }}", "syntax_not_allowed"),
    ("{{ 10 ** 10 ** 8 }}", "syntax_not_allowed"),
    ("{{ x.__class__ }}", "private_name"),
    ("{{ lipsum() }}", "syntax_not_allowed"),
    ("{% set a = x ~ x %}{{ a }}", "syntax_not_allowed"),
    ("{{ x | format(1) }}", "syntax_not_allowed"),
    ("{{ " + "(" * 300 + "1" + ")" * 300 + " }}", "too_deep"),
    ("x" * 10_001, "too_long"),
    ("{{ x ", "syntax"),
])
def test_unbounded_instructions_are_refused(template, code):
    with pytest.raises(SandboxViolation) as caught:
        check_instructions(template)
    assert caught.value.code == code
    with pytest.raises(SandboxViolation):  # the task page renders through the same gate
        render_instructions(template, {"x": "a"})


# -- service tasks -------------------------------------------------------------------------

SERVICE_TASK = (
    '<bpmn:serviceTask id="send" name="send"><bpmn:extensionElements>'
    '<spiffworkflow:serviceTaskOperator id="send_letter" resultVariable="letter">'
    "<spiffworkflow:parameters>"
    '<spiffworkflow:parameter id="template" type="str" value="&apos;ontvangstbevestiging&apos;"/>'
    '<spiffworkflow:parameter id="days" type="int" value="double(termijn)"/>'
    '<spiffworkflow:parameter id="to" type="str" value="complainant[&quot;email&quot;]"/>'
    "</spiffworkflow:parameters>"
    "</spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>"
)


def test_service_task_calls_the_handler_with_evaluated_params():
    calls = []

    def handler(task, operation_name, params):
        calls.append((task.task_spec.bpmn_id, operation_name, params))
        return {"letter_id": 7, "template": params["template"]}

    engine = SandboxedScriptEngine(functions={"double": lambda v: 2 * v}, service_handler=handler)
    workflow = workflow_for(linear(("send", SERVICE_TASK)), engine,
                            termijn=3, complainant={"email": "ouder@example.org"})
    workflow.do_engine_steps()

    assert workflow.is_completed()
    assert calls == [("send", "send_letter",
                      {"template": "ontvangstbevestiging", "days": 6, "to": "ouder@example.org"})]
    assert data_of(workflow, "send")["letter"] == {"letter_id": 7, "template": "ontvangstbevestiging"}


def test_service_task_without_handler_fails_clearly():
    engine = SandboxedScriptEngine(functions={"double": lambda v: 2 * v})
    workflow = workflow_for(linear(("send", SERVICE_TASK)), engine, termijn=3, complainant={"email": "x"})
    with pytest.raises(WorkflowTaskException, match="no service handler is configured"):
        workflow.do_engine_steps()


def test_service_handler_error_is_readable():
    def handler(task, operation_name, params):
        raise ConnectionError("mail server unreachable")

    engine = SandboxedScriptEngine(functions={"double": lambda v: 2 * v}, service_handler=handler)
    workflow = workflow_for(linear(("send", SERVICE_TASK)), engine, termijn=3, complainant={"email": "x"})
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert "service 'send_letter' failed: ConnectionError: mail server unreachable" in str(caught.value)
    assert isinstance(caught.value.__cause__, ConnectionError)
