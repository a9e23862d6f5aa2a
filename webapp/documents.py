"""Documents kept with a complaint: a letter, a photo, an Office document, a saved email.

What a file is comes from its content (the `filetype` sniffer, plus a check of our own for saved
emails, which have no magic number), never from its name or the browser's Content-Type. A file
is kept in the `documents` table with its SHA-256, in the transaction of the step that brought it
(the intake of the public form, or the upload on a complaint or task page). The audit trail holds
the hash, size and type, never the file name: a name like "klacht over Jan de Vries.pdf" is
personal data, and the trail outlives retention.

Sides: a document is brought by the complainant (`klager`) or by the organisation's side
(`organisatie`: the employee and their manager). Under M.O.S.'s regulation each side's handler
sees what the other brought; a document one side may not see plays no part in the oordeel, so
staff can mark it "niet gedeeld met de andere partij" (`not_shared`), shown beside it in the list.
No Flask here; webapp.web.documents_views renders and routes.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import filetype
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.db.models import Document, Instance
from webapp.runtime import audit, clock
from webapp.runtime.errors import KlachtrouteError, NotFound

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_UPLOAD = 10
SIDES = {"klager": "De klager", "organisatie": "De organisatie (medewerker of leidinggevende)"}
NOT_SHARED_LABEL = "niet gedeeld met de andere partij: telt niet mee in het oordeel"

# What may be kept: sniffed MIME type -> (label, extension for the download name).
ALLOWED: dict[str, tuple[str, str]] = {
    "application/pdf": ("PDF", "pdf"),
    "image/png": ("afbeelding (PNG)", "png"),
    "image/jpeg": ("afbeelding (JPEG)", "jpg"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("Word-document", "docx"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("Excel-werkblad", "xlsx"),
    "application/vnd.oasis.opendocument.text": ("OpenDocument-tekst", "odt"),
    "message/rfc822": ("e-mail (.eml)", "eml"),
    "application/vnd.ms-outlook": ("Outlook-bericht (.msg)", "msg"),
}
_CFB = bytes.fromhex("D0CF11E0A1B11AE1")  # OLE compound file: .msg, but also .doc and .xls
_MSG_STREAM = "__substg1.0_".encode("utf-16-le")  # the property streams every Outlook message has
_HEADER_LINE = re.compile(rb"[!-9;-~]{1,76}:")


class DocumentRefused(KlachtrouteError):
    """A file that cannot be kept; the message is Dutch, for the person who sent it."""


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def describe_size(size: int) -> str:
    if size >= 1024 * 1024:
        megabytes = size / (1024 * 1024)
        return f"{megabytes:.0f} MB" if megabytes == int(megabytes) else f"{megabytes:.1f} MB".replace(".", ",")
    return f"{max(1, round(size / 1024))} kB"


def sniff(content: bytes) -> str | None:
    """The MIME type the content itself shows, or None when nothing is recognised."""
    if content.startswith(_CFB):
        return "application/vnd.ms-outlook" if _MSG_STREAM in content else "application/x-ole-storage"
    kind = filetype.guess(content)
    if kind is not None:
        return kind.mime
    return "message/rfc822" if _looks_like_email(content) else None


def _looks_like_email(content: bytes) -> bool:
    """An RFC 5322 message: a block of header lines (continuations indented) up to an empty
    line, with at least a From and one of Date, Subject or Message-ID."""
    head = content[:64 * 1024].replace(b"\r\n", b"\n")
    end = head.find(b"\n\n")
    if end <= 0:
        return False
    names = set()
    for line in head[:end].split(b"\n"):
        if line[:1] in (b" ", b"\t") and names:
            continue
        match = _HEADER_LINE.match(line)
        if match is None:
            return False
        names.add(match.group(0)[:-1].lower())
    return b"from" in names and bool(names & {b"date", b"subject", b"message-id"})


def clean_name(name: str, content_type: str) -> str:
    """A file name fit to store and offer for download: no path, no control characters, at most
    200 characters, and an extension that matches the content."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .") or "document"
    stem, dot, ext = name.rpartition(".")
    wanted = ALLOWED[content_type][1]
    if dot and stem and ext.lower() in ({wanted, "jpeg"} if wanted == "jpg" else {wanted}):
        return f"{stem[:190]}.{ext}"
    return f"{name[:190]}.{wanted}"


def check_upload(name: str, content: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Upload:
    """A file that may be kept, or DocumentRefused with the reason in Dutch."""
    if len(content) > max_bytes:
        raise DocumentRefused(f"Dit bestand is groter dan {describe_size(max_bytes)}"
                              f" ({describe_size(len(content))}): {_shown(name)}.")
    if not content:
        raise DocumentRefused(f"Dit bestand is leeg: {_shown(name)}.")
    kind = sniff(content)
    if kind not in ALLOWED:
        found = kind or _plain_text_or_unknown(content)
        raise DocumentRefused("Dit bestand is geen PDF, afbeelding, Office-document of e-mail "
                              f"(gevonden: {found}): {_shown(name)}.")
    return Upload(clean_name(name, kind), content, kind, hashlib.sha256(content).hexdigest())


def _plain_text_or_unknown(content: bytes) -> str:
    try:
        content[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return "onbekende inhoud"
    return "platte tekst"


def _shown(name: str) -> str:
    return "".join(c for c in (name or "naamloos") if unicodedata.category(c)[0] != "C")[:100]


def add_rows(session: Session, instance: Instance, uploads: list[Upload], actor: str, side: str,
             not_shared: bool = False, now: datetime | None = None) -> list[int]:
    """Insert the documents and their audit events in the caller's transaction; their ids."""
    if side not in SIDES:
        raise ValueError(f"unknown side {side!r}")
    now = now or clock.now()
    rows = [Document(instance_id=instance.id, organisation_id=instance.organisation_id, name=u.name,
                     content_type=u.content_type, size=u.size, sha256=u.sha256, content=u.content,
                     added_by=actor[:254], added_at=now, side=side, not_shared=not_shared) for u in uploads]
    session.add_all(rows)
    session.flush()
    audit.append(session, [{
        "organisation_id": instance.organisation_id, "instance_id": instance.id, "occurred_at": now,
        "actor": actor[:254], "event_type": "document_added",
        "data": {"document_id": row.id, "sha256": row.sha256, "size": row.size, "type": row.content_type,
                 "side": side, "not_shared": not_shared}} for row in rows])
    return [row.id for row in rows]


def add_documents(runtime, instance_id: int, uploads: list[Upload], actor: str, side: str,
                  not_shared: bool = False) -> list[int]:
    """Staff add documents to a complaint: one step, in a transaction of its own."""
    with runtime.write_sessions.begin() as session:
        instance = session.get(Instance, instance_id)
        if instance is None or instance.purged_at is not None:
            raise NotFound("deze klacht bestaat niet (meer)")
        return add_rows(session, instance, uploads, actor, side, not_shared)


def mark(runtime, document_id: int, instance_id: int, not_shared: bool, actor: str) -> None:
    """Set or clear the mark "niet gedeeld met de andere partij" (audited)."""
    with runtime.write_sessions.begin() as session:
        row = session.get(Document, document_id)
        if row is None or row.instance_id != instance_id:
            raise NotFound("dit document bestaat niet")
        if row.not_shared == not_shared:
            return
        row.not_shared = not_shared
        audit.append(session, [{
            "organisation_id": row.organisation_id, "instance_id": row.instance_id, "occurred_at": clock.now(),
            "actor": actor[:254], "event_type": "document_marked",
            "data": {"document_id": row.id, "sha256": row.sha256, "not_shared": not_shared}}])


@dataclass(frozen=True)
class Listed:
    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    added_by: str
    added_at: datetime
    side: str
    not_shared: bool

    @property
    def type_label(self) -> str:
        return ALLOWED.get(self.content_type, (self.content_type, ""))[0]

    @property
    def size_label(self) -> str:
        return describe_size(self.size)


def listing(session: Session, instance_id: int) -> list[Listed]:
    """A complaint's documents without their content, oldest first."""
    rows = session.execute(select(Document.id, Document.name, Document.content_type, Document.size,
                                  Document.sha256, Document.added_by, Document.added_at, Document.side,
                                  Document.not_shared)
                           .where(Document.instance_id == instance_id).order_by(Document.id)).all()
    return [Listed(*row) for row in rows]
