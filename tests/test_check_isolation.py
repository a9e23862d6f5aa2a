"""The gate a draft passes (the modeller's Controleren, every deploy, `klachtroute check`)
runs in a child process with CPU, memory and wall-clock limits, behind a small queue
shared by all organisations: a pathological draft is refused with a Dutch problem, and
checks never hold the web application's threads."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from click.testing import CliRunner

from webapp.cli import main
from webapp.runtime import check_runner
from webapp.runtime.check_runner import CheckQueue, ChecksBusy, Limits, run_limited
from webapp.runtime.errors import DiagramError, DiagramProblem
from webapp.runtime.service import Runtime
from webapp.scenarios.publish import check_draft, deploy

from .conftest import FIXTURES, PASSWORD
from .test_deploy import draft

OWNER = "pieter@test.nl"
# A reminder every second instead of once after three working days: legitimate BPMN that no
# static check can refuse, but the scenario that waits four working days fires it over and over
# (until the step's own budget of engine tasks stops it, a second or two of work).
EVERY_SECOND = draft(('<bpmn:timeDate xsi:type="bpmn:tFormalExpression">working_days_after(3, ontvangen_op)'
                      '</bpmn:timeDate>',
                      '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">"R/PT1S"</bpmn:timeCycle>'))
TOO_LONG = "De scenario's van dit ontwerp duurden langer dan {} seconden en zijn afgebroken"
BUSY = "Er worden nu te veel controles tegelijk uitgevoerd; probeer het over een minuut opnieuw."


@pytest.fixture
def limits():
    """Set this process's check limits and queue for one test; put the old ones back after."""
    saved = []

    def configure(**changes):
        saved.append(check_runner.configure(**changes))

    yield configure
    if saved:
        check_runner.restore(saved[0])


def _group_is_gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


# -- the limited child -------------------------------------------------------------------------


def test_the_child_is_another_process_and_returns_its_result():
    outcome = run_limited(os.getpid, (), Limits(wall_seconds=60))
    assert outcome.ok and outcome.value not in (None, os.getpid())


def test_a_child_over_its_wall_clock_is_killed_with_its_process_group():
    outcome = run_limited(time.sleep, (600,), Limits(wall_seconds=1, cpu_seconds=60))
    assert outcome.exceeded == "wall"
    assert _group_is_gone(outcome.pid)


def test_a_child_over_its_cpu_time_is_stopped():
    outcome = run_limited(sum, (range(10**13),), Limits(wall_seconds=120, cpu_seconds=1))
    assert outcome.exceeded == "cpu"
    assert _group_is_gone(outcome.pid)


def test_a_child_over_its_memory_is_stopped():
    outcome = run_limited(bytearray, (4 * 1024**3,), Limits(wall_seconds=60, memory_mb=512))
    assert outcome.exceeded == "memory"


# -- the gate ----------------------------------------------------------------------------------


def test_a_draft_whose_scenarios_run_too_long_is_refused_and_not_deployed(runtime: Runtime, limits):
    limits(wall_seconds=0.5, cpu_seconds=120)
    # A scenario that fails quickly may be reported beside it (how far the others got depends on load).
    [problem] = [p for p in check_draft(runtime, "testorg", EVERY_SECOND)
                 if p.message.startswith(TOO_LONG.format("0,5"))]
    assert problem.file == "testorg/scenarios"
    with pytest.raises(DiagramError) as refused:
        deploy(runtime, "testorg", EVERY_SECOND, OWNER, "elke seconde een herinnering")
    assert problem.message in [p.message for p in refused.value.problems]
    assert runtime.current_version_id("testorg") == 1


def test_a_good_draft_still_passes_the_limited_gate(runtime: Runtime, limits):
    limits(wall_seconds=60)
    assert check_draft(runtime, "testorg", draft()) == []


# -- the queue ---------------------------------------------------------------------------------


def test_the_queue_refuses_at_once_beyond_running_and_waiting():
    queue = CheckQueue(running=1, waiting=1)
    release, entered = threading.Event(), []

    def hold():
        with queue.slot():
            entered.append(threading.current_thread().name)
            release.wait(60)

    threads = [threading.Thread(target=hold, name=f"check-{n}") for n in range(2)]
    for thread in threads:
        thread.start()
    _wait_for(lambda: queue.stats() == (1, 1))
    with pytest.raises(ChecksBusy) as busy, queue.slot():
        pass
    assert str(busy.value) == BUSY
    release.set()
    for thread in threads:
        thread.join(60)
    assert sorted(entered) == ["check-0", "check-1"] and queue.stats() == (0, 0)


def _wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


class _Client:
    """A logged-in process owner talking HTTP to a real server (one cookie, one CSRF token)."""

    def __init__(self, base: str, email: str) -> None:
        self.base, jar = base, CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        token = self._token("/login")
        self.opener.open(f"{base}/login", urllib.parse.urlencode(
            {"email": email, "wachtwoord": PASSWORD, "csrf_token": token}).encode())
        self.csrf = self._token("/testorg/procesontwerp")
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in jar)

    def _token(self, path: str) -> str:
        page = self.opener.open(f"{self.base}{path}").read().decode()
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def request(self, path: str, body: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie, "X-CSRFToken": self.csrf, "Content-Type": "application/json"}
        data = json.dumps(body).encode() if body is not None else None
        try:
            with urllib.request.urlopen(urllib.request.Request(f"{self.base}{path}", data, headers),
                                        timeout=300) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


@pytest.fixture
def server(app):
    """The app served by waitress on loopback with the thread count `klachtroute serve` uses."""
    from waitress.server import create_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    served = create_server(app, host="127.0.0.1", port=port, threads=8)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    served.close()
    thread.join(timeout=5)


def test_eight_pathological_checks_leave_the_application_answering(server, make_user, limits):
    make_user(OWNER, "testorg:procesbeheerder")
    client = _Client(server, OWNER)
    check_runner.warm_up()
    limits(wall_seconds=1, cpu_seconds=120, running=2, waiting=4)
    queue = check_runner.queue()
    answers: list[tuple[int, str]] = []

    def check():
        answers.append(client.request("/testorg/procesontwerp/controleren", {"xml": EVERY_SECOND}))

    queued = [threading.Thread(target=check) for _ in range(6)]
    for thread in queued:
        thread.start()
    _wait_for(lambda: queue.stats() == (2, 4))
    extra = [client.request("/testorg/procesontwerp/controleren", {"xml": EVERY_SECOND}) for _ in range(2)]
    page = client.request("/testorg/procesontwerp")
    still_checking = queue.stats()
    for thread in queued:
        thread.join(300)

    assert [status for status, _ in extra] == [503, 503]
    assert all(json.loads(body)["message"] == BUSY for _, body in extra)
    assert page[0] == 200 and "Procesontwerp" in page[1]
    assert still_checking[0] == 2  # the page was answered while the checks ran
    assert len(answers) == 6
    for status, body in answers:  # each refused: at its time limit, or by a scenario that failed first
        assert status == 200 and json.loads(body)["problems"]


# -- the CLI runs the same gate ----------------------------------------------------------------


@pytest.mark.parametrize(("edit", "element_id"), [
    (('>opgelost == True<', '>opgelost == True and type(1) == int<'), None),
    (('sourceRef="Service_oordeel" targetRef="End_opgelost"', 'sourceRef="Service_oordeel" targetRef="End_weg"'),
     "Flow_3"),
], ids=["type-in-condition", "dangling-reference"])
def test_the_cli_and_the_web_page_give_the_same_problems(browser, make_user, tmp_path, edit, element_id):
    xml = draft().replace(*edit)
    assert xml != draft()
    make_user(OWNER, "testorg:procesbeheerder")
    browser.login(OWNER)
    response = browser.client.post("/testorg/procesontwerp/controleren", json={"xml": xml},
                                   headers={"X-CSRFToken": browser.csrf("/testorg/procesontwerp")})
    web = response.json["problems"]
    assert web, "the web page must refuse this diagram"

    folder = tmp_path / "timers"
    shutil.copytree(FIXTURES / "timers", folder)
    (folder / "timers.bpmn").write_text(xml, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(folder), "--forms", str(FIXTURES / "forms")])
    assert result.exit_code == 1, result.output
    printed = [line.strip() for line in result.output.splitlines()[1:]]
    shown = [DiagramProblem(p["message"], p["file"], p["element_id"], p["element_name"], p["line"]) for p in web]
    assert printed == [str(problem).strip() for problem in shown]
    if element_id:
        assert element_id in [p["element_id"] for p in web]


def test_check_and_publish_answer_busy_at_once_when_the_queue_is_full(runtime, browser, make_user, limits):
    make_user(OWNER, "testorg:procesbeheerder")
    browser.login(OWNER)
    token = browser.csrf("/testorg/procesontwerp")
    limits(running=1, waiting=0)
    with check_runner.queue().slot():  # another organisation's check is running
        checked = browser.client.post("/testorg/procesontwerp/controleren", json={"xml": draft()},
                                      headers={"X-CSRFToken": token})
        published = browser.client.post("/testorg/procesontwerp/publiceren", json={"xml": draft(), "note": "nieuw"},
                                        headers={"X-CSRFToken": token})
    for response in (checked, published):
        assert response.status_code == 503
        assert response.json["message"] == BUSY and response.headers["Retry-After"] == "60"
    assert runtime.current_version_id("testorg") == 1  # nothing was published
    assert browser.client.post("/testorg/procesontwerp/controleren", json={"xml": draft()},
                               headers={"X-CSRFToken": token}).json["problems"] == []
