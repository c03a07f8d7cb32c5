"""The layers are enforced, not just drawn: `lint-imports` (run by .ci/run with the
contracts in pyproject.toml) fails on an import that runs back up or closes a cycle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` over the copy of the package in `tree` (not the installed one)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree(tmp_path):
    shutil.copytree(ROOT / "bot", tmp_path / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_as_it_is_keeps_every_contract(tree):
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # A value type that knows how it is shown.
        ("bot/model.py", "from bot.present import numbers", "Layers"),
        # The router client reaching into the database (how Node used to be found).
        ("bot/routeros/client.py", "from bot.inventory import store", "Layers"),
        # Slack reaching up into the command line.
        ("bot/slack/blocks.py", "from bot.cli import report", "Layers"),
        # A renderer judging the reading again instead of rendering the assessment.
        ("bot/present/reading.py", "from bot.domain import assess", "Renderers decide nothing"),
        # A listener reaching into the wiring that registers it.
        ("bot/slack/listeners/commands.py", "from bot.slack import app", "Slack: wiring"),
        # The simulator borrowing the bot's parser: it would mirror its bugs.
        ("bot/sim/wire.py", "from bot.routeros import parse", "simulator stands alone"),
        # Two sibling modules importing each other.
        ("bot/domain/upkeep.py", "from bot.domain import background", "No import cycle"),
    ],
)
def test_an_import_against_the_layers_breaks_the_build(tree, module, line, contract):
    path = tree / module
    source = path.read_text()
    header, _, rest = source.partition("from __future__ import annotations\n")
    path.write_text(f"{header}from __future__ import annotations\n\n{line}  # noqa\n{rest}")
    result = lint(tree)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken
