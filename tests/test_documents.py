"""Documents kept with a complaint: uploaded by staff on the complaint and task pages and by the
complainant on the public form, recognised by their content, kept with their SHA-256 in the
audit trail, downloadable as an attachment, marked for M.O.S., and removed by retention."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from datetime import timedelta

import pytest
from fpdf import FPDF
from lxml import html
from sqlalchemy import func, select, update

from webapp.db.models import AuditEvent, Document, HumanTask, Instance
from webapp.documents import DocumentRefused, check_upload, sniff
from webapp.intake import submit_complaint
from webapp.runtime import clock
from webapp.runtime.organisations import BPMN_ROOT
from webapp.runtime.retention import run_retention
from webapp.runtime.service import Runtime

SAMEN = "samen-kinderopvang"
COMPLAINT = {"naam": "Anna de Vries", "email": "anna@example.nl", "relatie": "ouder", "locatie": "De Boomhut",
             "datum_gebeurtenis": "2026-02-26", "omschrijving": "Tim kwam met natte kleren thuis.",
             "toestemming": "ja"}
TEN_MB = 10 * 1024 * 1024


def pdf_bytes(line: str = "Brief van de klager") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=line)
    return bytes(pdf.output())


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
                         '.org/package/2006/content-types"/>')
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


EML = (b"From: Anna de Vries <anna@example.nl>\r\nTo: klachten@samen.nl\r\nSubject: Natte kleren\r\n"
       b"Date: Thu, 26 Feb 2026 14:30:00 +0100\r\nMessage-ID: <1@example.nl>\r\n\r\nBeste SAMEN,\r\n")


@pytest.fixture
def samen(runtime: Runtime, add_organisation):
    return add_organisation(BPMN_ROOT / SAMEN)


@pytest.fixture
def complaint(runtime: Runtime, samen):
    return submit_complaint(runtime, SAMEN, COMPLAINT, clock.to_local(clock.now()).date())


@pytest.fixture
def manager(make_user, browser, samen):
    make_user("mira@samen.nl", f"{SAMEN}:manager_ve", name="Mira Manager")
    browser.login("mira@samen.nl")
    return browser


def text(response) -> str:
    return " ".join(html.fromstring(response.get_data(as_text=True)).text_content().split())


def listed(response) -> list[list[str]]:
    """The documents table of a page: per row, the text of each cell."""
    rows = html.fromstring(response.get_data(as_text=True)).xpath(
        "//section[@aria-labelledby='kop-documenten']//tbody/tr")
    return [[" ".join(cell.text_content().split()) for cell in row.xpath("./td")] for row in rows]


def upload(browser, reference: str, files: list[tuple[bytes, str]], back: str | None = None, **fields):
    page = back or f"/{SAMEN}/klachten/{reference}"
    data = {"bestanden": [(io.BytesIO(content), name) for content, name in files], "terug": page, **fields}
    return browser.post(f"/{SAMEN}/klachten/{reference}/documenten", data, page=page,
                        content_type="multipart/form-data")


def documents(runtime: Runtime) -> list[Document]:
    with runtime.sessions() as s:
        return list(s.scalars(select(Document).order_by(Document.id)))


def test_content_decides_what_a_file_is():
    assert sniff(pdf_bytes()) == "application/pdf"
    assert sniff(png_bytes()) == "image/png"
    assert sniff(docx_bytes()).endswith("wordprocessingml.document")
    assert sniff(EML) == "message/rfc822"
    assert check_upload("scan", pdf_bytes()).name == "scan.pdf"  # the extension follows the content
    with pytest.raises(DocumentRefused, match=r"geen PDF, afbeelding, Office-document of e-mail \(gevonden: "
                                              r"application/x-msdownload\)"):
        check_upload("factuur.pdf", b"MZ" + b"\x00" * 200)


def test_a_document_round_trips_with_its_hash(runtime, complaint, manager):
    content = pdf_bytes()
    response = upload(manager, complaint.reference, [(content, "brief van Anna.pdf")], partij="klager")
    assert response.status_code == 303
    page = manager.get(response.headers["Location"])
    assert "1 document toegevoegd." in text(page)
    ((name, side, _added, digest),) = listed(page)
    assert name.startswith("brief van Anna.pdf (PDF,") and side == "De klager: mira@samen.nl"

    (row,) = documents(runtime)
    download = manager.get(f"/{SAMEN}/klachten/{complaint.reference}/documenten/{row.id}")
    assert download.status_code == 200 and download.data == content
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "brief" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    with runtime.sessions() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.event_type == "document_added"))
    assert event.data["sha256"] == hashlib.sha256(content).hexdigest() == row.sha256
    assert digest == row.sha256[:16] + "…"
    assert event.actor == "mira@samen.nl" and event.instance_id == complaint.instance_id
    assert "Anna" not in str(event.data)  # the file name may hold personal data: not in the trail


def test_a_document_added_on_the_task_page_stays_on_the_task_page(runtime, complaint, manager):
    with runtime.sessions() as s:
        task = s.scalar(select(HumanTask).where(HumanTask.state == "ready"))
    back = f"/{SAMEN}/taken/{task.id}"
    response = upload(manager, complaint.reference, [(png_bytes(), "foto.png")], back=back)
    assert response.status_code == 303 and response.headers["Location"].endswith(back)
    assert listed(manager.get(back))[0][0].startswith("foto.png (afbeelding (PNG),")


def test_a_text_file_named_pdf_is_refused(runtime, complaint, manager):
    response = upload(manager, complaint.reference, [(b"Dit is gewoon tekst.\n", "bewijs.pdf")])
    page = text(manager.get(response.headers["Location"]))
    assert ("Dit bestand is geen PDF, afbeelding, Office-document of e-mail (gevonden: platte tekst): bewijs.pdf."
            in page)
    assert documents(runtime) == []


def test_a_file_over_ten_megabytes_is_refused(runtime, complaint, manager):
    content = pdf_bytes() + b"\x00" * (TEN_MB + 1 - len(pdf_bytes()))
    response = upload(manager, complaint.reference, [(content, "groot.pdf")])
    assert response.status_code == 303
    assert "Dit bestand is groter dan 10 MB" in text(manager.get(response.headers["Location"]))
    assert documents(runtime) == []


def test_other_forms_still_refuse_a_large_body(browser):
    response = browser.client.post("/login", data={"email": "x@y.nl", "wachtwoord": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_an_auditor_reads_but_cannot_add(runtime, complaint, make_user, browser):
    make_user("audit@samen.nl", f"{SAMEN}:auditor")
    browser.login("audit@samen.nl")
    response = browser.post(f"/{SAMEN}/klachten/{complaint.reference}/documenten",
                            {"bestanden": [(io.BytesIO(pdf_bytes()), "a.pdf")]},
                            page=f"/{SAMEN}/klachten/{complaint.reference}", content_type="multipart/form-data")
    assert response.status_code == 403 and documents(runtime) == []


def test_another_organisations_staff_cannot_download(runtime, complaint, manager, make_user, browser, other_org):
    upload(manager, complaint.reference, [(pdf_bytes(), "a.pdf")])
    (row,) = documents(runtime)
    make_user("x@quick.nl", f"{other_org.slug}:behandelaar")
    outsider = browser.__class__(browser.client.application.test_client())
    outsider.login("x@quick.nl")
    assert outsider.get(f"/{SAMEN}/klachten/{complaint.reference}/documenten/{row.id}").status_code == 404


def test_a_document_can_be_marked_as_not_shared_with_the_other_side(runtime, complaint, manager):
    upload(manager, complaint.reference, [(EML, "mail.eml")], partij="organisatie")
    (row,) = documents(runtime)
    page = f"/{SAMEN}/klachten/{complaint.reference}"
    response = manager.post(f"{page}/documenten/{row.id}/markering", {"niet_gedeeld": "ja", "terug": page},
                            page=page)
    assert response.status_code == 303
    assert "niet gedeeld met de andere partij: telt niet mee in het oordeel" in listed(manager.get(page))[0][0]
    with runtime.sessions() as s:
        marked = s.scalar(select(AuditEvent).where(AuditEvent.event_type == "document_marked"))
    assert marked.data == {"document_id": row.id, "sha256": row.sha256, "not_shared": True}


def test_the_public_form_accepts_a_pdf_attachment(runtime, samen, browser):
    content = pdf_bytes("Foto's en verslag")
    data = {**COMPLAINT, "bijlagen": [(io.BytesIO(content), "verslag.pdf")]}
    response = browser.post(f"/{SAMEN}/klacht-indienen", data, content_type="multipart/form-data")
    assert response.status_code == 303, text(response)
    (row,) = documents(runtime)
    assert row.content == content and row.side == "klager" and row.added_by == "klager (webformulier)"
    with runtime.sessions() as s:
        instance = s.scalar(select(Instance))
        event = s.scalar(select(AuditEvent).where(AuditEvent.event_type == "document_added"))
    assert row.instance_id == instance.id and event.data["sha256"] == hashlib.sha256(content).hexdigest()


def test_the_public_form_refuses_a_disguised_attachment_and_starts_nothing(runtime, samen, browser):
    data = {**COMPLAINT, "bijlagen": [(io.BytesIO(b"<script>alert(1)</script>"), "foto.jpg")]}
    response = browser.post(f"/{SAMEN}/klacht-indienen", data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Dit bestand is geen PDF, afbeelding, Office-document of e-mail" in text(response)
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Instance)) == 0
    assert documents(runtime) == []


def test_retention_removes_the_documents_and_keeps_their_hash(runtime, complaint, manager):
    upload(manager, complaint.reference, [(pdf_bytes(), "a.pdf"), (docx_bytes(), "verslag.docx")])
    assert len(documents(runtime)) == 2
    with runtime.write_sessions.begin() as s:
        s.execute(update(Instance).values(status="completed", closed_at=clock.now() - timedelta(days=3 * 365)))
    run_retention(runtime)
    assert documents(runtime) == []
    with runtime.sessions() as s:
        assert s.get(Instance, complaint.instance_id).purged_at is not None
        hashes = s.scalars(select(AuditEvent.data).where(AuditEvent.event_type == "document_added")).all()
    assert len(hashes) == 2 and all(len(h["sha256"]) == 64 for h in hashes)
