"""Heat's real clients against a real ``kiln serve``, from the Heat venv (``scripts/heat-venv``).

The clients run in the venv's own processes, never in the test process. Without that venv the
tests here are skipped.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from compat_support import HEAT_VENV, HeatVenv

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

from api_support import Server


@pytest.fixture(scope="session")
def heat_venv() -> HeatVenv:
    for program in ("python", "heat", "openstack"):
        if not (HEAT_VENV / "bin" / program).exists():
            pytest.skip(
                f"no Heat venv with {program} at {HEAT_VENV} (make it with scripts/heat-venv)"
            )
    return HeatVenv(HEAT_VENV)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, heat_venv: HeatVenv) -> Iterator[Server]:
    running = Server(home=tmp_path_factory.mktemp("kiln-serve"))
    running.start()
    yield running
    running.stop()
