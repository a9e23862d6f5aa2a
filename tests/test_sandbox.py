"""The diagram sandbox, driven through the real SpiffWorkflow engine.

Every diagram here is a small BPMN string: the point is that gateway conditions,
timers, script tasks and service tasks really go through SandboxedScriptEngine.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from handlers.working_days import WorkingDayCalendar, diagram_functions
from webapp.runtime.sandbox import (
    ALLOWED_BUILTINS,
    SandboxedScriptEngine,
    SandboxEnvironment,
    SandboxSyntaxError,
    SandboxViolation,
    check_expression,
    check_script,
)

NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
)
GUARD_NAMES = {
    "__builtins__", "_getattr_", "_getitem_", "_getiter_", "_iter_unpack_sequence_",
    "_unpack_sequence_", "_write_", "_inplacevar_", "_apply_", "_print", "_print_",
}


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
        "total = a + b\n"
        "summary = {'total': total, 'tags': [t.upper() for t in tags if t]}\n"
        "summary['count'] = len(summary['tags'])\n"
        "x += 1\n"
        "names = []\n"
        "for i, tag in enumerate(sorted(tags)):\n"
        "    names.append(str(i) + ':' + tag)\n"
        "first, *rest = tags\n"
        "def helper(v):\n"
        "    return v * 2\n"
        "doubled = helper(total)\n"
        "check = all(isinstance(n, str) for n in names) and any(tags) and max(a, b) == 3\n"
    )
    engine = SandboxedScriptEngine(functions={"double": lambda v: 2 * v})
    workflow = workflow_for(linear(("s", script_task("s", script))), engine, a=1, b=3, x=41, tags=["b", "a"])
    workflow.do_engine_steps()

    data = data_of(workflow, "s")
    assert data == {
        "a": 1, "b": 3, "x": 42, "tags": ["b", "a"], "total": 4,
        "summary": {"total": 4, "tags": ["B", "A"], "count": 2},
        "names": ["0:a", "1:b"], "first": "b", "rest": ["a"], "doubled": 8, "check": True,
        "i": 1, "tag": "b",  # loop variables stay, as in plain Python and Spiff
    }
    # Spelled out: no builtins, guards, exposed functions or the script's own `def`.
    assert not GUARD_NAMES & data.keys()
    assert "double" not in data and "helper" not in data
    assert not [k for k, v in data.items() if callable(v)]


def test_gateway_expression_sees_task_data_inside_comprehensions():
    # Task data are globals, as in Spiff: a generator expression can read them.
    env = SandboxEnvironment()
    assert env.evaluate("any(t in allowed for t in tags)", {"tags": ["x", "y"], "allowed": {"y"}}) is True


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


# -- refusals ------------------------------------------------------------------------------

REFUSED_SCRIPTS = [
    ("import os", "imports are not allowed in diagram expressions: 'import os'"),
    ("from os import path", "imports are not allowed in diagram expressions: 'from os import path'"),
    ("m = __import__('os')", "name '__import__' is not available"),
    ("text = open('/etc/passwd').read()", "'open' is not available"),
    ("classes = ().__class__.__base__.__subclasses__()", "access to attribute '__class__' is not allowed"),
    ("c = getattr(a, '__class__')", "'getattr' is not available"),
    ("v = eval('1')", "'eval' is not available"),
    ("exec('a = 2')", "'exec' is not available"),
    ("g = globals()", "'globals' is not available"),
    ("v = _secret", "name '_secret' is not available (names starting with '_' are refused)"),
    ("c = type(a)", "'type' is not available"),
    # Refused at run time, after `a = 99` already ran: the data must still be untouched.
    ("a = 99\nleak = '{0.__class__}'.format(a)", "access to attribute 'format' is not allowed"),
    ("a = 99\nname = 'x'\nname.upper = 1", "changing a 'str' object is not allowed"),
]


@pytest.mark.parametrize(("script", "message"), REFUSED_SCRIPTS, ids=[s for s, _ in REFUSED_SCRIPTS])
def test_refused_script_raises_readable_error_and_leaves_data_unchanged(script, message):
    xml = linear(("prepare", script_task("prepare", "a = 1\ntags = ['x']")), ("bad", script_task("bad", script)))
    workflow = workflow_for(xml)

    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()

    assert message in str(caught.value)
    assert isinstance(caught.value.__cause__, SandboxViolation)
    assert data_of(workflow, "bad") == data_of(workflow, "prepare") == {"a": 1, "tags": ["x"]}
    assert not workflow.is_completed()


def test_import_in_a_diagram_keeps_the_sandbox_message_and_line():
    script = "total = 1\nsubject = 'klacht'\nimport os\n"
    workflow = workflow_for(linear(("bad", script_task("bad", script))))

    with pytest.raises(Exception) as caught:  # noqa: B017 - the point is what str() shows
        workflow.do_engine_steps()

    assert "imports are not allowed in diagram expressions: 'import os'" in str(caught.value)
    assert caught.value.line_number == 3
    assert caught.value.error_line == "import os"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("__import__('os').system('true')", "name '__import__' is not available"),
        ("open('/etc/passwd')", "'open' is not available"),
        ("().__class__.__base__.__subclasses__()", "access to attribute '__class__' is not allowed"),
        ("eval('1')", "'eval' is not available"),
    ],
)
def test_refused_gateway_condition_names_the_reason(condition, message):
    xml = GATEWAY_DIAGRAM.replace(b"severity == 'ernstig' and len(tags) &gt; 1", escape(condition).encode())
    workflow = workflow_for(xml, severity="ernstig", tags=["a", "b"])

    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()

    assert message in str(caught.value)
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


# -- checks before deploy ------------------------------------------------------------------


def test_check_expression_names_the_line_of_a_syntax_error():
    with pytest.raises(SandboxSyntaxError) as caught:
        check_expression("(severity == 'ernstig'\n and and len(tags) > 1)")
    assert caught.value.lineno == 2
    assert "line 2" in str(caught.value)
    assert isinstance(caught.value, SandboxViolation) and isinstance(caught.value, SyntaxError)


def test_check_script_names_the_line_of_a_syntax_error():
    with pytest.raises(SandboxSyntaxError, match="line 3"):
        check_script("a = 1\nb = 2\nc = = 3\n")


def test_checks_refuse_without_running_and_accept_good_code():
    check_expression("severity == 'ernstig' and len(tags) > 1")
    check_script("total = a + b\nx += 1")
    with pytest.raises(SandboxViolation, match="'import os'"):
        check_script("x = 1\nimport os")
    with pytest.raises(SandboxViolation, match="'open' is not available"):
        check_expression("open('/etc/passwd')")
    # Python that is valid only as a statement is not a valid expression.
    with pytest.raises(SandboxSyntaxError):
        check_expression("x = 1")


def test_engine_validate_uses_the_restricted_compile():
    engine = SandboxedScriptEngine()
    engine.validate("len(tags) > 1")
    with pytest.raises(SandboxViolation, match="__import__"):
        engine.validate("__import__('os')")
    # Spiff's DMN engine relies on validate() raising SyntaxError for bad syntax.
    with pytest.raises(SyntaxError):
        engine.validate("> 5")


def test_curated_builtins():
    assert {"len", "sorted", "enumerate", "isinstance", "range", "dict"} <= ALLOWED_BUILTINS
    assert not {"open", "eval", "exec", "getattr", "__import__", "type", "globals"} & ALLOWED_BUILTINS


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
