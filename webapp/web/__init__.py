"""The Flask web application: staff pages, the public complaint forms and the JSON API.
It drives the runtime; the runtime knows nothing of Flask."""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import IntegerConverter

from webapp.runtime import clock
from webapp.runtime.service import Runtime

from . import security

csrf = CSRFProtect()
INSTANCE = Path(__file__).resolve().parents[2] / "instance"


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class DatabaseInt(IntegerConverter):
    """<int:...> in a URL: a number the database's integer columns hold, else the route does
    not match (a 404), rather than an overflow in the query (a 500)."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits, min, 2**31 - 1 if max is None else max, signed)


def create_app(runtime: Runtime | None = None, **config: Any) -> Flask:
    app = Flask(__name__)
    app.url_map.converters["int"] = DatabaseInt
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=1024 * 1024,  # forms are text: 1 MB is generous
        PAGE_SIZE=25,
        # Throttling and rate limits (webapp.throttle): "count/window", e.g. "10/hour", "5/15minutes".
        LOGIN_LIMIT_PER_ACCOUNT=os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5/15minutes"),
        LOGIN_LIMIT_PER_ADDRESS=os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30/15minutes"),
        INTAKE_LIMIT_PER_ADDRESS=os.environ.get("INTAKE_LIMIT_PER_ADDRESS", "20/hour"),
        INTAKE_LIMIT_PER_ORGANISATION=os.environ.get("INTAKE_LIMIT_PER_ORGANISATION", "200/hour"),
        # Reverse proxies in front of the app whose X-Forwarded-For is trusted (the client address
        # the limits count); 0 when clients connect directly.
        TRUSTED_PROXIES=int(os.environ.get("TRUSTED_PROXIES", "0")),
    )
    app.config.update(config)
    _check_limits(app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"],
                                x_proto=app.config["TRUSTED_PROXIES"])
    if "SECRET_KEY" not in app.config or not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key()
    if runtime is None:
        from webapp.bootstrap import build_runtime

        runtime = build_runtime()
    app.extensions["klachtroute"] = runtime

    csrf.init_app(app)
    from . import (
        access,
        account_views,
        api,
        auth,
        colleagues,
        complaints,
        documents_views,
        incidents_views,
        intake,
        logbook,
        measures_views,
        modeller_views,
        oversight_views,
        platform_views,
        portal_views,
        public_report_views,
        registration,
        reports_views,
        sso,
        staff,
        trace_views,
        twofactor_views,
    )

    auth.init_app(app)
    for module in (auth, staff, complaints, incidents_views, intake, api, trace_views, modeller_views,
                   reports_views, documents_views, registration, oversight_views, access, colleagues,
                   account_views, twofactor_views, sso, portal_views, logbook, platform_views):
        app.register_blueprint(module.bp)
    app.register_blueprint(measures_views.bp)
    app.register_blueprint(public_report_views.bp)
    csrf.exempt(api.bp)  # the API authenticates by token or checks the session's own header

    _register_vendor(app)
    _register_filters(app)
    _register_errors(app)
    security.register_headers(app)
    return app


def _check_limits(app: Flask) -> None:
    """A mistyped limit stops the start, not the first login."""
    from webapp.throttle import Limit

    for name in ("LOGIN_LIMIT_PER_ACCOUNT", "LOGIN_LIMIT_PER_ADDRESS", "INTAKE_LIMIT_PER_ADDRESS",
                 "INTAKE_LIMIT_PER_ORGANISATION"):
        Limit.parse(app.config[name])


NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
VENDOR = {"bpmn-js": NODE_MODULES / "bpmn-js" / "dist"}


def _register_vendor(app: Flask) -> None:
    """Browser libraries from npm (installed with the lockfile), served as they are."""
    from flask import abort, send_from_directory

    @app.route("/vendor/<package>/<path:filename>")
    def vendor(package: str, filename: str):
        root = VENDOR.get(package)
        if root is None:
            abort(404)
        return send_from_directory(root, filename, max_age=3600)


def _register_filters(app: Flask) -> None:
    @app.template_filter("lokaal")
    def lokaal(moment: datetime | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
        return clock.to_local(moment).strftime(fmt) if moment else ""

    @app.template_filter("datum")
    def datum(moment: datetime | None) -> str:
        return clock.to_local(moment).strftime("%d-%m-%Y") if moment else ""

    @app.template_filter("lang_datum")
    def lang_datum(value) -> str:
        from handlers.dutch import long_date
        return long_date(value)

    @app.template_filter("leeftijd")
    def leeftijd(moment: datetime | None) -> str:
        if not moment:
            return ""
        days = (clock.now() - moment).days
        return "vandaag" if days < 1 else ("1 dag" if days == 1 else f"{days} dagen")

    @app.context_processor
    def inject_now() -> dict[str, Any]:
        from flask import g
        return {"now": clock.now(), "can_write": getattr(g, "can_write", False)}


def _register_errors(app: Flask) -> None:
    """Every error is the Dutch error page (under /api/v1: the API's JSON error), for every
    status code, and for an unhandled exception too: never Werkzeug's English page."""

    @app.errorhandler(CSRFError)
    def csrf_error(_e):
        return security.error_page(400, "Formulier verlopen",
                                   "Het formulier is verlopen of ongeldig. Laad de pagina opnieuw en probeer het "
                                   "nog eens.")

    app.register_error_handler(HTTPException, security.http_error)
    app.register_error_handler(InternalServerError, security.http_error)
