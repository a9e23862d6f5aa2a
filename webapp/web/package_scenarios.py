"""Running one or a few scenarios of a draft package from the browser, in the same limited child
process as the gate (a diagram's scenarios can never starve the web process)."""

from __future__ import annotations

import dataclasses

from webapp.runtime import check_runner
from webapp.runtime.organisations import OrganisationConfig


def run_one_scenario(config: OrganisationConfig, scenarios: list, xml: str, dependencies: dict[str, str]) -> list:
    """Results (webapp.scenarios.runner.ScenarioResult) of `scenarios` against the draft; raises
    check_runner.ChecksBusy when too many checks run already. A run over a limit is one failed
    result that says which limit."""
    from webapp.scenarios.gate import limit_problem

    limits, queue = check_runner.settings()
    with queue.slot():
        outcome = check_runner.run_limited(_run, (dataclasses.replace(config), scenarios, xml, dependencies), limits)
    if outcome.ok:
        return outcome.value
    problem = limit_problem(outcome, limits, config)
    return [_Failed(s, problem.message) for s in scenarios]


def _run(config: OrganisationConfig, scenarios: list, xml: str, dependencies: dict[str, str]) -> list:
    from webapp.scenarios.runner import run_scenarios

    return run_scenarios(config, scenarios, None, xml, dependencies)


@dataclasses.dataclass
class _Failed:
    scenario: object
    failure: str
    passed: bool = False
    seconds: float = 0.0
    letters: tuple = ()
