"""Documents on the complaint and task pages: upload, download, the M.O.S. mark.

POST /<org>/klachten/<ref>/documenten                      add files (staff; back to the page they came from)
GET  /<org>/klachten/<ref>/documenten/<id>                 download (attachment, the sniffed type, nosniff)
POST /<org>/klachten/<ref>/documenten/<id>/markering       set or clear "niet gedeeld met de andere partij"

The list itself is the template global `complaint_documents(instance_id)`, included by
complaint.html and task.html (`_documents.html`), so the pages' views need no change.

Upload size: the application refuses bodies above MAX_CONTENT_LENGTH (1 MB: forms are text).
Upload routes lift that for their own request only, in a URL value preprocessor, which Flask
runs before any before_request function (the CSRF check reads the body there)."""

from __future__ import annotations

import os

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, request, url_for

from webapp import documents

from . import queries
from .auth import organisation_page, runtime, writer_required
from .complaints import instance_of

bp = Blueprint("documents", __name__)

UPLOAD_ENDPOINTS = {"documents.upload", "intake.form"}


def max_document_bytes() -> int:
    configured = current_app.config.get("DOCUMENT_MAX_BYTES") or os.environ.get("DOCUMENT_MAX_BYTES")
    return int(configured) if configured else documents.DEFAULT_MAX_BYTES


def allow_upload_body(files: int = documents.MAX_FILES_PER_UPLOAD) -> None:
    """Raise this request's body limit to what `files` documents and the form's text need."""
    if request.method == "POST":
        request.max_content_length = max_document_bytes() * files + 1024 * 1024


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, _values) -> None:
    if endpoint == "documents.upload":
        allow_upload_body()


@bp.app_template_global()
def complaint_documents(instance_id: int) -> list[documents.Listed]:
    with runtime().sessions() as session:
        return documents.listing(session, instance_id)


@bp.app_context_processor
def document_labels() -> dict:
    return {"document_sides": documents.SIDES, "not_shared_label": documents.NOT_SHARED_LABEL,
            "max_document_size": documents.describe_size(max_document_bytes())}


def read_uploads(field: str) -> tuple[list[documents.Upload], list[str]]:
    """The files of a multipart field, checked; (accepted, Dutch refusals). Each file is read
    up to one byte past the limit, never further."""
    limit = max_document_bytes()
    accepted, refused = [], []
    files = [f for f in request.files.getlist(field) if f and f.filename]
    if len(files) > documents.MAX_FILES_PER_UPLOAD:
        return [], [f"Voeg hoogstens {documents.MAX_FILES_PER_UPLOAD} bestanden tegelijk toe."]
    for item in files:
        content = item.stream.read(limit + 1)
        try:
            accepted.append(documents.check_upload(item.filename or "", content, limit))
        except documents.DocumentRefused as exc:
            refused.append(str(exc))
    return accepted, refused


def _back(org: str, reference: str) -> str:
    target = request.form.get("terug", "")
    if target.startswith(f"/{org}/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("complaints.show", org=org, reference=reference)


@bp.route("/<org>/klachten/<reference>/documenten", methods=["POST"])
@organisation_page
def upload(org: str, reference: str):
    writer_required()
    instance = instance_of(org, reference)
    side = request.form.get("partij", "organisatie")
    if side not in documents.SIDES:
        side = "organisatie"
    uploads, refused = read_uploads("bestanden")
    for message in refused:
        flash(message)
    if not uploads and not refused:
        flash("Kies een of meer bestanden om toe te voegen.")
    if uploads and not refused:
        try:
            documents.add_documents(runtime(), instance.id, uploads, g.actor.identity, side,
                                    not_shared=request.form.get("niet_gedeeld") == "ja")
        except documents.NotFound:
            abort(404)
        flash(f"{len(uploads)} document{'' if len(uploads) == 1 else 'en'} toegevoegd.")
    elif uploads:
        flash("Er is niets toegevoegd: verbeter of verwijder de geweigerde bestanden en probeer het opnieuw.")
    return redirect(_back(org, reference), code=303)


@bp.route("/<org>/klachten/<reference>/documenten/<int:document_id>")
@organisation_page
def download(org: str, reference: str, document_id: int):
    instance = instance_of(org, reference)
    with runtime().sessions() as session:
        row = queries.document_of(session, instance.id, document_id)
    if row is None:
        abort(404)
    response = Response(row.content, mimetype=row.content_type)
    # Werkzeug writes an ASCII fallback and the RFC 5987 filename* for other characters.
    response.headers.set("Content-Disposition", "attachment", filename=row.name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<org>/klachten/<reference>/documenten/<int:document_id>/markering", methods=["POST"])
@organisation_page
def mark(org: str, reference: str, document_id: int):
    writer_required()
    instance = instance_of(org, reference)
    not_shared = request.form.get("niet_gedeeld") == "ja"
    try:
        documents.mark(runtime(), document_id, instance.id, not_shared, g.actor.identity)
    except documents.NotFound:
        abort(404)
    flash("Gemarkeerd: " + documents.NOT_SHARED_LABEL + "." if not_shared else "Markering verwijderd.")
    return redirect(_back(org, reference), code=303)
