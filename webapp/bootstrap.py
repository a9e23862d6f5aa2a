"""Builds the runtime from the environment: shared by the CLI, the worker and the web app."""

from __future__ import annotations

from sqlalchemy import Engine

from webapp.db.session import make_engine, make_session_factory
from webapp.runtime.forms import FormCatalog
from webapp.runtime.organisations import discover
from webapp.runtime.service import Runtime


def build_runtime(engine: Engine | None = None) -> Runtime:
    engine = engine or make_engine()
    return Runtime(make_session_factory(engine), discover(), FormCatalog())
