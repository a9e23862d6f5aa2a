"""Security headers on every response, and the Dutch error page for every status code."""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

# No inline scripts or styles, no eval: every script and style sheet is a file of our own
# (static/, /vendor). bpmn-js styles the diagram through the DOM (element.style), which a CSP
# allows; its fonts and icons are data: URLs. The JSON blocks in templates are data, not scripts.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
# Files that hold nothing personal and may be cached; every other answer may (staff pages,
# the API, the public form and its confirmation) and is kept out of every cache.
CACHEABLE_ENDPOINTS = {"static", "vendor", "api.openapi"}

# (title, message) per status code; codes not listed get the text of their class.
PAGES: dict[int, tuple[str, str]] = {
    400: ("Ongeldig verzoek", "Dit verzoek kunnen wij niet verwerken. Controleer het adres of het formulier en "
                              "probeer het opnieuw."),
    401: ("Inloggen nodig", "Log in om deze pagina te zien."),
    403: ("Geen toegang", "U mag dit niet doen."),
    404: ("Niet gevonden", "Deze pagina bestaat niet, of u heeft er geen toegang toe."),
    405: ("Niet toegestaan", "Deze pagina kan zo niet worden gebruikt. Ga terug en probeer het opnieuw."),
    409: ("Intussen gewijzigd", "Dit kan nu niet meer: de toestand is intussen veranderd. Laad de pagina opnieuw."),
    413: ("Te groot", "Wat u verstuurde is te groot. Maak de tekst korter."),
    414: ("Adres te lang", "Het adres van deze pagina is te lang."),
    415: ("Verkeerd formaat", "Wat u verstuurde heeft een vorm die wij niet verwerken."),
    422: ("Ongeldige invoer", "Wat u verstuurde kunnen wij niet verwerken. Controleer het en probeer het opnieuw."),
    429: ("Te veel verzoeken", "U heeft kort na elkaar te veel verzoeken gedaan. Wacht even en probeer het "
                               "opnieuw."),
    500: ("Er ging iets mis", "Er ging iets mis aan onze kant. Probeer het later opnieuw; blijft het misgaan, "
                              "neem dan contact met ons op."),
    503: ("Tijdelijk niet beschikbaar", "Deze pagina is op dit moment niet beschikbaar. Probeer het later opnieuw."),
}
CLIENT_ERROR = ("Verzoek niet mogelijk", "Dit verzoek kunnen wij niet verwerken. Ga terug en probeer het opnieuw.")
SERVER_ERROR = PAGES[500]


def register_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for old browsers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.endpoint not in CACHEABLE_ENDPOINTS:
            headers["Cache-Control"] = "no-store"
        return response


def error_page(status: int, title: str, message: str, headers: dict[str, str] | None = None):
    return render_template("error.html", title=title, message=message), status, headers or {}


def _is_api() -> bool:
    return request.path == "/api/v1" or request.path.startswith("/api/v1/")


def http_error(exc: HTTPException):
    """Any HTTP error (an unhandled exception arrives as a 500) as the Dutch page, or under
    /api/v1 as the API's JSON error when the API's own handlers did not see it."""
    status = exc.code or 500
    kept = {k: v for k, v in exc.get_headers() if k in ("Allow", "WWW-Authenticate", "Retry-After")}
    if _is_api():
        from .api import MESSAGES, error_response

        return error_response(status, MESSAGES.get(status) or SERVER_ERROR[1], headers=kept)
    title, message = PAGES.get(status) or (CLIENT_ERROR if status < 500 else SERVER_ERROR)
    # A description we wrote (abort(403, description="...")) beats the general text;
    # Werkzeug's own descriptions are English and never shown.
    described = exc.description
    if status < 500 and described and described != type(exc).description:
        message = described
    return error_page(status, title, message, kept)
