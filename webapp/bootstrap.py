"""Builds the runtime from the environment: shared by the CLI, the worker and the web app."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine

from webapp.db.session import make_engine, make_session_factory
from webapp.runtime.organisations import OrganisationConfig, discover, load_config
from webapp.runtime.service import Runtime


def organisations_from_env() -> dict[str, OrganisationConfig]:
    """The organisations of bpmn/, plus the organisation folders named in
    KLACHTROUTE_ORGANISATION_DIRS (separated by ':'), e.g. a benchmark's own."""
    configs = discover()
    for folder in filter(None, os.environ.get("KLACHTROUTE_ORGANISATION_DIRS", "").split(os.pathsep)):
        config = load_config(Path(folder))
        configs[config.slug] = config
    return configs


def build_runtime(engine: Engine | None = None) -> Runtime:
    engine = engine or make_engine()
    return Runtime(make_session_factory(engine), organisations_from_env())
