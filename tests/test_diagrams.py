"""Every organisation's diagram, as `make test` must prove it: the OMG schema and
SpiffBpmnParser, bpmnlint's recommended rules, forms, lanes to roles, operators,
letters, sandboxed expressions, a readable layout; and every scenario passes."""

from __future__ import annotations

import pytest

from webapp.runtime.checks import check_organisation
from webapp.runtime.organisations import BPMN_ROOT, CONFIG_FILENAME, load_config
from webapp.scenarios.model import load_scenarios
from webapp.scenarios.runner import run_scenario, scenario_files

FOLDERS = sorted(p.parent for p in BPMN_ROOT.glob(f"*/{CONFIG_FILENAME}"))
SCENARIOS = [(folder, scenario) for folder in FOLDERS for path in scenario_files(folder)
             for scenario in load_scenarios(path)]


def test_the_five_organisations_are_configured():
    assert {f.name for f in FOLDERS} >= {"samen-kinderopvang", "skar", "mos", "kwartier", "korein"}


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_diagram_passes_every_static_check(folder):
    problems = check_organisation(load_config(folder))
    assert problems == [], "\n".join(str(p) for p in problems)


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_every_organisation_has_scenarios(folder):
    assert len([s for f, s in SCENARIOS if f == folder]) >= 5


@pytest.mark.parametrize(("folder", "scenario"), SCENARIOS,
                         ids=[f"{f.name}:{s.name}" for f, s in SCENARIOS])
def test_scenario(folder, scenario):
    result = run_scenario(load_config(folder), scenario)
    assert result.passed, result.failure
