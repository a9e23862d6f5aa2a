"""Process owners change their organisation's diagram: drafts, every check, deployment
as a new version with what changed.

- A draft may be incomplete, but it is well-formed, safe XML within the size limit.
  Importing a .bpmn file (Camunda Modeler, bpmn.io, the SpiffWorkflow modeller) is
  saving a draft from its bytes: UTF-8, with or without a byte order mark.
- `screen_all` refuses what must never reach a parser (size, encoding, DOCTYPE).
- `compare_diagrams` says what changed between two versions.
The gate that runs every check and the scenarios, and publishing a new version, live in
`webapp.scenarios.publish` (they run the scenario runner, which sits above the runtime).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import func, select

from webapp.db.models import DiagramDraft, DiagramVersion

from . import clock, packages
from .checks import NS
from .compare import compare_diagrams  # noqa: F401  (re-exported: what changed between two versions)
from .diagrams import MAX_DIAGRAM_BYTES, parse_xml
from .errors import ConfigError, DiagramError, DiagramProblem, NotFound
from .organisations import OrganisationConfig

__all__ = [
    "Deployment",
    "Draft",
    "DraftSummary",
    "compare_diagrams",
    "decode_bpmn",
    "dependencies_for",
    "delete_draft",
    "import_bpmn",
    "list_drafts",
    "load_draft",
    "save_draft",
    "update_draft_files",
    "screen_all",
]

BPMN_NS = NS["bpmn"]
BPMNDI_NS = NS["bpmndi"]
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


@dataclass(frozen=True)
class Draft:
    id: int
    organisation: str  # slug
    bpmn_xml: str
    dependencies: dict[str, str]
    based_on_version_id: int | None
    saved_by: str
    saved_at: datetime
    note: str
    files: dict[str, str] = field(default_factory=dict)  # the rest of the package (forms, letters, ...)


@dataclass(frozen=True)
class DraftSummary:
    id: int
    based_on_version_id: int | None
    saved_by: str
    saved_at: datetime
    note: str
    size: int  # characters of the main diagram


@dataclass(frozen=True)
class Deployment:
    version_id: int
    version: int
    changes: dict[str, Any] = field(default_factory=dict)
    created: bool = True  # False: the diagram equals the current version, nothing was stored


# -- reading an upload safely --------------------------------------------------------------


def _too_big(size: int, filename: str) -> DiagramProblem:
    megabytes = f"{size / 1024 / 1024:.1f}".replace(".", ",")
    return DiagramProblem(
        f"het diagram is te groot: {megabytes} MB, de grens is {MAX_DIAGRAM_BYTES // 1024 // 1024} MB",
        file=filename)


_DECLARED_ENCODING = re.compile(r"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_UTF16_32 = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"), (b"\xfe\xff", "UTF-16"),
             (b"\xff\xfe", "UTF-16"), (b"\x00<\x00?", "UTF-16"), (b"<\x00?\x00", "UTF-16"))


def _check_declared_encoding(text: str, filename: str) -> None:
    match = _DECLARED_ENCODING.match(text[:300])
    if match and match.group(1).lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise DiagramError([DiagramProblem(
            f"het bestand is gecodeerd als '{match.group(1)}'; alleen UTF-8 wordt ondersteund: "
            f"sla het diagram op als UTF-8", file=filename, line=1)])


def decode_bpmn(data: bytes, filename: str = "upload.bpmn") -> str:
    """The text of an uploaded .bpmn file: UTF-8 with or without a byte order mark.
    Other encodings are refused with a DiagramError saying so (nothing is guessed)."""
    if len(data) > MAX_DIAGRAM_BYTES:
        raise DiagramError([_too_big(len(data), filename)])
    for bom, name in _UTF16_32:
        if data.startswith(bom):
            raise DiagramError([DiagramProblem(
                f"het bestand is gecodeerd als {name}; alleen UTF-8 wordt ondersteund: sla het diagram op als UTF-8",
                file=filename, line=1)])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # The declaration is ASCII: read it first, so a Latin-1 file says what it is.
    _check_declared_encoding(data[:300].decode("ascii", errors="replace"), filename)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DiagramError([DiagramProblem(
            f"het bestand is geen geldige UTF-8 (byte 0x{data[exc.start]:02X} op regel {line}); "
            f"alleen UTF-8 wordt ondersteund: sla het diagram op als UTF-8", file=filename, line=line)]) from exc
    _check_declared_encoding(text, filename)
    return text


def _as_text(xml: str | bytes, filename: str) -> str:
    """Size first (before anything reads the content), then the encoding."""
    if isinstance(xml, bytes):
        return decode_bpmn(xml, filename)
    if len(xml) > MAX_DIAGRAM_BYTES:  # characters are at least one byte each
        raise DiagramError([_too_big(len(xml), filename)])
    size = len(xml.encode("utf-8"))
    if size > MAX_DIAGRAM_BYTES:
        raise DiagramError([_too_big(size, filename)])
    xml = xml.removeprefix("\ufeff")
    _check_declared_encoding(xml, filename)
    return xml


_ROOT_START = re.compile(r"<[A-Za-z_]")
_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_EXTERNAL = re.compile(r"""\b(SYSTEM|PUBLIC)\s+(?:["'][^"']*["']\s+)?["']([^"']*)["']""")


def _refuse_doctype(text: str, filename: str) -> None:
    """A DOCTYPE before the root element: say precisely why it is refused. The parser
    (`parse_xml`) refuses it too; this gives the process owner the specific reason."""
    head = _COMMENT.sub("", text[:65536])  # a comment before the root may hold anything
    root = _ROOT_START.search(head)
    if _DOCTYPE.search(head[:root.start()] if root else head) is None:
        return
    doctype = _DOCTYPE.search(text)
    root = _ROOT_START.search(text, doctype.end())
    end = text.find("]>", doctype.start())
    declaration = text[doctype.start():end if end != -1 else (root.start() if root else len(text))]
    line = text.count("\n", 0, doctype.start()) + 1
    external = _EXTERNAL.search(declaration)
    if external:
        message = (f"een externe entiteit of DTD ({external.group(1)} \"{external.group(2)}\") is niet toegestaan: "
                   f"een diagram mag geen bestanden of adressen buiten zichzelf laten inlezen")
    elif "<!ENTITY" in declaration:
        message = ("entiteitdefinities zijn niet toegestaan in een diagram: geneste entiteiten kunnen onbegrensd "
                   "uitdijen ('billion laughs')")
    else:
        message = "een DOCTYPE is niet toegestaan in een diagram"
    raise DiagramError([DiagramProblem(message, file=filename, line=line)])


def _screen(xml: str | bytes, filename: str) -> str:
    """Size, encoding and DOCTYPE: everything that is refused before the XML is parsed."""
    text = _as_text(xml, filename)
    _refuse_doctype(text, filename)
    return text


def screen_all(config: OrganisationConfig, xml: str | bytes,
                dependencies: dict[str, str | bytes]) -> tuple[str, dict[str, str]]:
    problems: list[DiagramProblem] = []
    text = ""
    try:
        text = _screen(xml, config.process_file)
    except DiagramError as exc:
        problems += exc.problems
    deps = {}
    for name, dep in dependencies.items():
        try:
            deps[name] = _screen(dep, name)
        except DiagramError as exc:
            problems += exc.problems
    if problems:
        raise DiagramError(problems)
    return text, deps


def dependencies_for(runtime, slug: str, dependencies: dict[str, Any] | None) -> dict[str, Any]:
    """Explicit called processes, else those of the current version, else the package's."""
    if dependencies is not None:
        return dict(dependencies)
    org_id = runtime.organisation_id(slug)
    with runtime.sessions() as session:
        current = session.scalars(select(DiagramVersion).where(DiagramVersion.organisation_id == org_id)
                                  .order_by(DiagramVersion.version.desc()).limit(1)).first()
        if current is not None:
            return dict(current.dependencies or {})
    return runtime.organisation(slug).read_diagram_files()[1]


# -- drafts --------------------------------------------------------------------------------


def save_draft(runtime, slug: str, xml: str | bytes, actor_email: str, note: str = "",
               draft_id: int | None = None, *, dependencies: dict[str, str] | None = None,
               files: dict[str, str] | None = None) -> int:
    """Store a draft (a new one, or replace the diagram of `draft_id`). It may be incomplete,
    but must be well-formed, safe BPMN XML within the size limit; otherwise a DiagramError
    and nothing is stored. A new draft starts with the current version's forms, letters,
    settings and scenarios unless `files` are given. Returns the draft's id."""
    config = runtime.organisation(slug)
    org_id = runtime.organisation_id(slug)
    text, deps = screen_all(config, xml, dependencies or {})
    problems: list[DiagramProblem] = []
    for name, content in {config.process_file: text, **deps}.items():
        try:
            root = parse_xml(content, name)
        except DiagramError as exc:
            problems += exc.problems
            continue
        if root.tag != f"{{{BPMN_NS}}}definitions":
            problems.append(DiagramProblem(
                f"dit is geen BPMN-diagram: het hoofdelement is <{etree.QName(root).localname}>, "
                f"verwacht <bpmn:definitions> (namespace {BPMN_NS})", file=name, line=root.sourceline))
    if problems:
        raise DiagramError(problems)
    now = clock.now()
    with runtime.write_sessions.begin() as session:
        if draft_id is None:
            current = session.scalar(select(DiagramVersion.id).where(DiagramVersion.organisation_id == org_id)
                                     .order_by(DiagramVersion.version.desc()).limit(1))
            draft = DiagramDraft(organisation_id=org_id, based_on_version_id=current)
            draft.files = dict(files) if files is not None else packages.split(config.files)[1]
            session.add(draft)
        else:
            draft = session.get(DiagramDraft, draft_id)
            if draft is None or draft.organisation_id != org_id:
                raise NotFound(f"concept {draft_id} bestaat niet")
            if files is not None:
                draft.files = dict(files)
        draft.bpmn_xml, draft.dependencies = text, deps
        draft.saved_by, draft.saved_at, draft.note = actor_email, now, note
        session.flush()
        return draft.id


def import_bpmn(runtime, slug: str, data: bytes, actor_email: str, filename: str = "upload.bpmn",
                note: str | None = None) -> int:
    """Import a .bpmn file (the bytes as uploaded) as a new draft; returns its id."""
    text = decode_bpmn(data, filename)
    return save_draft(runtime, slug, text, actor_email, f"geïmporteerd uit {filename}" if note is None else note)


def load_draft(runtime, slug: str, draft_id: int) -> Draft:
    org_id = runtime.organisation_id(slug)
    with runtime.sessions() as session:
        row = session.get(DiagramDraft, draft_id)
        if row is None or row.organisation_id != org_id:
            raise NotFound(f"concept {draft_id} bestaat niet")
        files = row.files if row.files is not None else packages.split(runtime.organisation(slug).files)[1]
        return Draft(row.id, slug, row.bpmn_xml, dict(row.dependencies or {}), row.based_on_version_id,
                     row.saved_by, row.saved_at, row.note, dict(files))


def update_draft_files(runtime, slug: str, draft_id: int, changes: dict[str, str | None], actor_email: str) -> None:
    """Change files of a draft's package (a form, a letter, the settings, a scenario): a text
    writes the file, None removes it. Names are checked; the content is checked by the gate."""
    org_id = runtime.organisation_id(slug)
    for name in changes:
        packages.check_name(name)
    with runtime.write_sessions.begin() as session:
        row = session.get(DiagramDraft, draft_id, with_for_update=True)
        if row is None or row.organisation_id != org_id:
            raise NotFound(f"concept {draft_id} bestaat niet")
        files = dict(row.files if row.files is not None else packages.split(runtime.organisation(slug).files)[1])
        for name, text in changes.items():
            if text is None:
                files.pop(name, None)
            else:
                files[name] = text
        if packages.SETTINGS not in files:
            raise ConfigError(f"{packages.SETTINGS} kan niet uit het pakket worden verwijderd")
        packages.check_files(files)
        row.files = files
        row.saved_by, row.saved_at = actor_email, clock.now()


def list_drafts(runtime, slug: str) -> list[DraftSummary]:
    """The organisation's drafts, the most recently saved first."""
    org_id = runtime.organisation_id(slug)
    with runtime.sessions() as session:
        rows = session.execute(
            select(DiagramDraft.id, DiagramDraft.based_on_version_id, DiagramDraft.saved_by, DiagramDraft.saved_at,
                   DiagramDraft.note, func.length(DiagramDraft.bpmn_xml))
            .where(DiagramDraft.organisation_id == org_id)
            .order_by(DiagramDraft.saved_at.desc(), DiagramDraft.id.desc())).all()
    return [DraftSummary(*row) for row in rows]


def delete_draft(runtime, slug: str, draft_id: int) -> None:
    org_id = runtime.organisation_id(slug)
    with runtime.write_sessions.begin() as session:
        row = session.get(DiagramDraft, draft_id)
        if row is None or row.organisation_id != org_id:
            raise NotFound(f"concept {draft_id} bestaat niet")
        session.delete(row)
