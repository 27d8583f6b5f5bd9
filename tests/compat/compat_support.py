"""The Heat venv (``scripts/heat-venv``) and its programs, for the compatibility tests."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Where scripts/heat-venv puts the venv.
HEAT_VENV = Path(
    os.environ.get("KILN_HEAT_VENV")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kiln" / "heat-venv"
)


@dataclass
class HeatVenv:
    """The Heat venv's programs, run with a clean environment of their own."""

    path: Path

    def run(self, program: str, *arguments: str, timeout: float = 120) -> str:
        """The standard output of a program that must succeed."""
        finished = self.attempt(program, *arguments, timeout=timeout)
        assert finished.returncode == 0, (
            f"{program} {' '.join(arguments)} exited {finished.returncode}:\n"
            f"{finished.stdout}\n{finished.stderr}"
        )
        return finished.stdout

    def attempt(
        self, program: str, *arguments: str, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("OS_", "KILN_", "PYTHON"))
        }
        env["PYTHONWARNINGS"] = "ignore"
        return subprocess.run(
            [str(self.path / "bin" / program), *arguments],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
