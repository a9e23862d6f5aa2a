"""The complainant's own page, reached by the personal link in every letter (no login).

GET       /mijn-klacht/<token>               where the complaint stands, what happens next, letters
GET/POST  /mijn-klacht/<token>/<actie>       reageren, tevreden, vervolgstap, intrekken
POST      /mijn-klacht/<token>/<actie>/code  the mailed one-time code (vervolgstap, intrekken)

The token is in the path: no log line of ours prints a path of this blueprint (an error here is
logged without it), and the pages send no Referer. The logic lives in webapp.portal.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from webapp import portal
from webapp.portal_codes import confirm_code, request_code

from . import documents_views, security
from .auth import runtime

ANSWER_FILES = 3  # documents with one answer

bp = Blueprint("portal", __name__)
log = logging.getLogger(__name__)

KINDS = ("reageren", "tevreden", "vervolgstap", "intrekken")
DONE = {
    "reageren": "Uw reactie is ontvangen en aan uw klacht toegevoegd.",
    "tevreden": "Dank u. Wij hebben vastgelegd dat u tevreden bent.",
    "vervolgstap": "Uw verzoek om de volgende stap is ontvangen. Uw klacht gaat naar de volgende stap van de "
                   "procedure.",
    "intrekken": "Uw klacht is ingetrokken. De behandeling is gestopt.",
}
REFUSED = {
    "onbekend": ("Deze link werkt niet",
                 "Deze link hoort niet bij een klacht. Controleer of u de hele link uit de brief of e-mail heeft "
                 "overgenomen."),
    "ingetrokken": ("Deze link is ingetrokken",
                    "Deze link werkt niet meer. Bij de volgende brief over uw klacht krijgt u een nieuwe link. "
                    "Heeft u vragen, neem dan contact op met de organisatie waar u de klacht indiende."),
    "verlopen": ("Deze link is verlopen",
                 "Uw klacht is al enige tijd afgesloten, daarom werkt deze link niet meer. Heeft u vragen, neem "
                 "dan contact op met de organisatie waar u de klacht indiende."),
}


@bp.after_request
def private(response: Response) -> Response:
    # The token is in the URL: no Referer to anyone, and no cache keeps the page.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.errorhandler(Exception)
def failed(exc: Exception):
    """Errors of these pages as the Dutch error page; an unexpected one is logged without the
    request's path (which holds the token), where Flask's own log line would print it."""
    if isinstance(exc, HTTPException):
        return security.http_error(exc)
    log.error("the complainant's page failed: %s", type(exc).__name__, exc_info=(type(exc), exc, None))
    return security.error_page(500, *security.SERVER_ERROR)


def _open(token: str) -> portal.Access | Response:
    try:
        return portal.open_link(runtime(), token)
    except portal.LinkRefused as exc:
        title, message = REFUSED[exc.reason]
        return Response(render_template("portal_refused.html", title=title, message=message), exc.status)


def _words(access: portal.Access) -> portal.PortalConfig:
    return portal.portal_config(runtime().organisation(access.organisation))


def _render(template: str, access: portal.Access, status: int = 200, **context):
    words = _words(access)
    page = context.pop("page", None) or portal.build_page(runtime(), access)
    return render_template(template, page=page, public_org=page.organisation,
                           a=lambda text: portal.address(text, words.address),
                           token=request.view_args["token"], **context), status


@bp.route("/mijn-klacht/<token>")
def show(token: str):
    access = _open(token)
    if isinstance(access, Response):
        return access
    done = request.args.get("gedaan", "")
    return _render("portal_page.html", access, done=DONE.get(done, ""))


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, values) -> None:
    if endpoint == "portal.act" and (values or {}).get("kind") == "reageren":  # an answer may bring documents
        documents_views.allow_upload_body(ANSWER_FILES)


@bp.route("/mijn-klacht/<token>/<kind>", methods=["GET", "POST"])
def act(token: str, kind: str):
    if kind not in KINDS:
        abort(404)
    access = _open(token)
    if isinstance(access, Response):
        return access
    page = portal.build_page(runtime(), access)
    action = page.action(kind)
    if action is None:
        return _render("portal_action.html", access, status=409, page=page, kind=kind, action=None,
                       error="Dit kan op dit moment niet: de behandeling van uw klacht is intussen verder gegaan.")
    if request.method == "GET":
        return _render("portal_action.html", access, page=page, kind=kind, action=action, text="")
    text = portal.clean_text(request.form.get("tekst"))
    if action.kind.text_required and not text:
        return _render("portal_action.html", access, status=422, page=page, kind=kind, action=action, text=text,
                       field_error="Schrijf hier uw reactie of de informatie die u wilt geven.")
    uploads, refused = documents_views.read_uploads("bijlagen") if kind == "reageren" else ([], [])
    if len(uploads) > ANSWER_FILES:
        uploads, refused = [], [f"Voeg hoogstens {ANSWER_FILES} bestanden toe."]
    if refused:
        return _render("portal_action.html", access, status=422, page=page, kind=kind, action=action, text=text,
                       files_error=" ".join(refused))
    words = _words(access)
    try:
        if action.kind.confirm_by_code:
            sent = request_code(runtime(), access, kind, text, current_app.secret_key,
                                *_code_mail(page, kind, words.address))
            return _render("portal_code.html", access, page=page, kind=kind, code_id=sent.code_id)
        portal.send(runtime(), access, action.message, text, uploads)
    except portal.ActionRefused as exc:
        return _render("portal_action.html", access, status=409, page=page, kind=kind, action=action, text=text,
                       error=str(exc))
    return redirect(url_for("portal.show", token=token, gedaan=kind), code=303)


@bp.route("/mijn-klacht/<token>/<kind>/code", methods=["POST"])
def confirm(token: str, kind: str):
    if kind not in ("vervolgstap", "intrekken"):
        abort(404)
    access = _open(token)
    if isinstance(access, Response):
        return access
    code_id = request.form.get("code_id", type=int)
    try:
        if code_id is None:
            raise portal.ActionRefused("Deze code is niet (meer) geldig. Vraag een nieuwe code aan.")
        confirm_code(runtime(), access, code_id, request.form.get("code", ""), current_app.secret_key)
    except portal.ActionRefused as exc:
        return _render("portal_code.html", access, status=422, kind=kind, code_id=code_id, error=str(exc))
    return redirect(url_for("portal.show", token=token, gedaan=kind), code=303)


def _code_mail(page: portal.PortalPage, kind: str, form: str) -> tuple[str, str]:
    what = "uw klacht intrekken" if kind == "intrekken" else "de volgende stap van de klachtenprocedure vragen"
    subject = f"Uw code om te bevestigen: klacht {page.reference}"
    body = (f"Beste heer/mevrouw,\n\nU wilt {what} (klacht {page.reference}). Vul deze code in op uw "
            f"persoonlijke pagina om dat te bevestigen:\n\n    {{code}}\n\nDe code is 15 minuten geldig. Heeft u "
            f"niets aangevraagd? Dan hoeft u niets te doen: zonder de code gebeurt er niets.\n\n"
            f"Met vriendelijke groet,\n\n{page.organisation.name}\n")
    return portal.address(subject, form), portal.address(body, form)
