"""The ``kiln`` fixture: a CLI runner with a private KILN_HOME, its engines stopped after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Kiln


@pytest.fixture
def kiln(tmp_path: Path) -> Iterator[Kiln]:
    runner = Kiln(home=tmp_path / "kiln-home", workdir=tmp_path)
    yield runner
    runner.kill_engines()
