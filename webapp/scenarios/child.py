"""`python -m webapp.scenarios.child`: the organisation's scenarios against a draft, for the
deploy checks of the runtime, which starts this in a child process and reads one JSON line.

The dependency runs this way on purpose: the scenario runner drives the runtime, so the runtime
never imports the runner; it only names this module on a command line.
Reads {"folder", "forms", "xml", "dependencies"} from stdin; prints {"failed": [...]} or {"error"}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from webapp.runtime.forms import FormCatalog
from webapp.scenarios.runner import verify_organisation


def main() -> None:
    request = json.loads(sys.stdin.read())
    try:
        results = verify_organisation(Path(request["folder"]), FormCatalog(*map(Path, request["forms"])),
                                      request["xml"], request["dependencies"])
        outcome: dict[str, Any] = {"failed": [
            {"name": r.scenario.name, "file": r.scenario.path.name, "failure": r.failure}
            for r in results if not r.passed]}
    except Exception as exc:  # a scenario file that cannot be read, a crash in the runner
        outcome = {"error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write("\n" + json.dumps(outcome) + "\n")


if __name__ == "__main__":
    main()
