"""Imported once by the forkserver that check children are forked from (`check_runner`):
the modules a check needs, and caches warmed by one real scenario, so that each child
starts warm instead of paying for an interpreter, its imports and first-use setup."""

from __future__ import annotations

import logging

import webapp.scenarios.gate  # noqa: F401 - preloaded for the children
from webapp.runtime.organisations import discover
from webapp.scenarios.runner import load_package_scenarios, run_scenarios


def _warm() -> None:
    """Run one scenario of the first organisation that has one: SQLAlchemy's mapper setup
    and compiled statements, SpiffWorkflow's first-use work. Best effort."""
    logging.getLogger("spiff").setLevel(logging.WARNING)
    try:
        for config in discover().values():
            scenarios = load_package_scenarios(config.scenario_texts)
            if scenarios:
                run_scenarios(config, scenarios[:1])
                return
    except Exception:  # noqa: BLE001, S110 - a warm-up that fails only costs the first check time
        pass


_warm()
