"""The layering contract of pyproject.toml ([tool.importlinter]) is checked by `make lint`; these
tests show the check itself bites: a copy of the code where a runtime module imports Flask fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _copy_tree(target: Path) -> Path:
    """The Python code and the contract, without caches, assets or the database."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "static", "templates", "assets", "*.txt")
    for package in ("webapp", "handlers"):
        shutil.copytree(REPO / package, target / package, ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", target / "pyproject.toml")
    return target


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)


def _add_import(module: Path, line: str) -> None:
    text = module.read_text(encoding="utf-8")
    marker = "from __future__ import annotations\n"
    assert marker in text
    module.write_text(text.replace(marker, f"{marker}\n{line}\n", 1), encoding="utf-8")


def test_the_real_tree_keeps_every_contract(tmp_path):
    result = _lint_imports(_copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout


def test_a_runtime_module_that_imports_flask_breaks_the_contract(tmp_path):
    root = _copy_tree(tmp_path)
    _add_import(root / "webapp" / "runtime" / "audit.py", "import flask  # noqa: F401")
    result = _lint_imports(root)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "webapp.runtime.audit -> flask" in result.stdout


def test_a_handler_that_imports_the_runtime_breaks_the_contract(tmp_path):
    root = _copy_tree(tmp_path)
    _add_import(root / "handlers" / "dutch.py", "from webapp.runtime import errors  # noqa: F401")
    result = _lint_imports(root)
    assert result.returncode != 0
    assert "handlers.dutch -> webapp.runtime.errors" in result.stdout
