"""Running the ``kiln`` command as real processes, each test with a home of its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The code these tests belong to, put first on the CLI's path.
SOURCE = Path(__file__).resolve().parents[2] / "src"

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


@dataclass
class Kiln:
    """Runs ``python -m kiln.cli`` against one private KILN_HOME."""

    home: Path
    workdir: Path
    environ: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """This checkout's code (whatever the installed copy points at), and a private home."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
        python_path = os.pathsep.join(filter(None, [str(SOURCE), base.get("PYTHONPATH")]))
        return {**base, "PYTHONPATH": python_path, "KILN_HOME": str(self.home), **self.environ}

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "kiln.cli", *args],
            cwd=self.workdir,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return self.run_all([args], timeout=timeout)[0]

    def run_all(
        self, commands: Sequence[Sequence[str]], timeout: float = 60
    ) -> list[subprocess.CompletedProcess[str]]:
        """Run independent commands at the same time; results in the order given."""
        processes = [(list(command), self.start(*command)) for command in commands]
        results = []
        try:
            for command, process in processes:
                stdout, stderr = process.communicate(timeout=timeout)
                results.append(
                    subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
                )
        finally:
            for _, process in processes:
                if process.poll() is None:
                    process.kill()
                    process.communicate()
        return results

    def data(self, *args: str) -> Any:
        """A ``-f json`` command that must succeed, parsed."""
        run = self.run(*args, "-f", "json")
        assert run.returncode == 0, run.stdout + run.stderr
        return json.loads(run.stdout)

    def write(self, name: str, text: str) -> Path:
        path = self.workdir / name
        path.write_text(text)
        return path

    def wait_until(
        self, what: str, check: Callable[[Any], bool], *args: str, timeout: float = 20
    ) -> Any:
        """Poll a ``-f json`` command until ``check(data)`` holds, for at most ``timeout``s."""
        deadline = time.monotonic() + timeout
        while True:
            data = self.data(*args)
            if check(data):
                return data
            assert time.monotonic() < deadline, f"{what} within {timeout}s; last: {data}"
            time.sleep(0.2)

    def wait_for_status(self, name: str, status: str, timeout: float = 20) -> dict[str, Any]:
        shown: dict[str, Any] = self.wait_until(
            f"{name} {status}",
            lambda data: data["stack_status"] == status,
            "stack",
            "show",
            name,
            timeout=timeout,
        )
        return shown

    def engine_processes(self) -> list[int]:
        """The ids of running processes started with this KILN_HOME (detached engines)."""
        marker = f"KILN_HOME={self.home}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
                command = (entry / "cmdline").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if marker in environ and b"kiln.cli" in command and state != "Z":
                found.append(int(entry.name))
        return found

    def wait_for_engines_to_exit(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while self.engine_processes():
            assert time.monotonic() < deadline, f"engines still running after {timeout}s"
            time.sleep(0.1)

    def kill_engines(self) -> None:
        """Kill this home's detached engines at once, as a crash would, and wait until gone."""
        for pid in self.engine_processes():
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while self.engine_processes() and time.monotonic() < deadline:
            time.sleep(0.05)


def output(run: subprocess.CompletedProcess[str]) -> str:
    """The stdout of a command that must have succeeded."""
    assert run.returncode == 0, f"{run.args}: {run.stderr}"
    return run.stdout
