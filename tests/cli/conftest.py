"""The ``kiln`` fixture: a CLI runner with a private KILN_HOME, its engines stopped after."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The API tests' helpers (a real ``kiln serve``) serve the client-mode tests too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

from cli_support import Kiln


@pytest.fixture
def kiln(tmp_path: Path) -> Iterator[Kiln]:
    runner = Kiln(home=tmp_path / "kiln-home", workdir=tmp_path)
    yield runner
    runner.kill_engines()
