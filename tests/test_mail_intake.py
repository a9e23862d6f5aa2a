"""Real mail after a real intake: a parent submits SAMEN's public form, the manager VE
confirms receipt, and the worker delivers the acknowledgement letter over SMTP to a
server on loopback; the manager VE got word of the new task the same way."""

from __future__ import annotations

from email import message_from_bytes
from email.header import decode_header, make_header

from sqlalchemy import select

from webapp.db.models import HumanTask, Instance
from webapp.mail import OutboxSender, SmtpSettings
from webapp.runtime.organisations import BPMN_ROOT
from webapp.runtime.service import Actor, Runtime
from webapp.worker import Worker


def subject(envelope) -> str:
    return str(make_header(decode_header(message_from_bytes(envelope.content)["Subject"])))


def body(envelope) -> str:
    message = message_from_bytes(envelope.content)
    return message.get_payload(decode=True).decode()


def test_the_acknowledgement_letter_reaches_the_parent(browser, runtime: Runtime, add_organisation, make_user,
                                                        smtp_server):
    inbox, port = smtp_server
    add_organisation(BPMN_ROOT / "samen-kinderopvang")
    make_user("marieke@samen.nl", "samen-kinderopvang:manager_ve")
    form = {"naam": "Fatima el Amrani", "email": "fatima@example.nl", "telefoon": "", "relatie": "ouder",
            "locatie": "KDV De Vlinder", "datum_gebeurtenis": "2026-02-26", "toestemming": "ja",
            "omschrijving": "Mijn dochter kwam met een schaafwond thuis en niemand had het ons verteld."}
    response = browser.post("/samen-kinderopvang/klacht-indienen", form)
    assert response.status_code == 303
    with runtime.sessions() as s:
        instance = s.scalar(select(Instance).where(Instance.reference.like("SAMEN-%")))
        task = s.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    runtime.complete_task(instance.id, task.task_id,
                          Actor("marieke@samen.nl", "samen-kinderopvang", frozenset({"manager_ve"})),
                          {"aard_klacht": "veiligheid en gezondheid", "medewerker_betrokken": False})

    worker = Worker(runtime, OutboxSender(runtime.sessions, SmtpSettings(
        "127.0.0.1", port, None, None, False, False, "klachten@samenkinderopvang.nl")))
    stats = worker.sweep()
    assert stats.messages >= 2

    letters = [m for m in inbox.messages if m.rcpt_tos == ["fatima@example.nl"]]
    [letter] = [m for m in letters if subject(m).startswith("Ontvangstbevestiging")]
    assert instance.reference in subject(letter)
    assert letter.mail_from == "klachten@samenkinderopvang.nl"
    assert "Fatima el Amrani" in body(letter)
    to_manager = [subject(m) for m in inbox.messages if m.rcpt_tos == ["marieke@samen.nl"]]
    assert f"Nieuwe taak: Ontvangst bevestigen ({instance.reference})" in to_manager
