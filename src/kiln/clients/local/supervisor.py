"""The process that is a Local::Server: ``python -m kiln.clients.local.supervisor DIR``.

It detaches (fork, new session, so it outlives the Kiln process that
started it and leads its own process group), records its identity in
``DIR/state.json``, runs the server's user_data and then its command in the
working directory, and records each phase. A server with a software-config
agent in its spec runs the agent too, from the moment user_data is done.
When the command ends (or the user_data fails) the server is off: the
supervisor stops what is left of its group and exits. SIGTERM (a delete)
ends it at once.

Whoever started it reads one line (the supervisor's pid) from its standard
output: by then the identity is recorded, so the server can be found again.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from kiln.clients.local.files import STATE_FILE, write_json
from kiln.clients.local.processes import members, start_ticks
from kiln.clients.local.user_data import UserDataError, prepare

SPEC_FILE = "spec.json"
LOG_FILE = "supervisor.log"
WORK_DIRECTORY = "work"
CONSOLE_LOG = "console.log"
#: Where the software-config agent keeps its scripts and what it applied.
AGENT_DIRECTORY = ".kiln-agent"

#: Phases in ``state.json``: user_data is running, the server is up, it ended
#: normally (or was stopped), it failed.
BOOTING, RUNNING, STOPPED, FAILED = "booting", "running", "stopped", "failed"


class Stopped(Exception):
    """SIGTERM arrived."""


class Supervisor:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.spec: dict[str, Any] = json.loads((directory / SPEC_FILE).read_text())
        self.work = directory / WORK_DIRECTORY
        self.state: dict[str, Any] = {}

    def record(self, **changes: Any) -> None:
        self.state.update(changes, updated=time.time())
        write_json(self.directory / STATE_FILE, self.state)

    def console(self, message: str) -> None:
        with open(self.work / CONSOLE_LOG, "a", encoding="utf-8") as log:
            log.write(f"[kiln] {message}\n")

    def run(self) -> NoReturn:
        try:
            self._run()
        except Stopped:
            self.finish(STOPPED, "stopped")
        self.finish(STOPPED, "stopped")

    def _run(self) -> None:
        self.console(f"server {self.spec['name']} starting at {self.spec['address']}")
        try:
            commands = prepare(self.spec.get("user_data") or "", self.work, self.console)
        except (UserDataError, OSError, ValueError) as error:
            self.console(f"user_data: {error}")
            self.finish(FAILED, f"user_data could not be used: {error}")
        for command in commands:
            status = self._call(command)
            if status != 0:
                self.finish(FAILED, f"user_data exited with status {status}")
        if self.spec.get("agent"):
            self._start_agent(self.spec["agent"])
        command_text = self.spec.get("command")
        if not command_text:
            self.record(phase=RUNNING)
            while True:
                signal.pause()
        process = self._start(["/bin/sh", "-c", command_text])
        self.record(phase=RUNNING, command_pid=process.pid)
        status = process.wait()
        if status == 0:
            self.finish(STOPPED, "the command exited")
        self.finish(FAILED, f"the command exited with status {status}")

    def _start(self, argv: list[str]) -> subprocess.Popen[bytes]:
        with open(self.work / CONSOLE_LOG, "ab") as log:
            return subprocess.Popen(
                argv,
                cwd=self.work,
                env=self.spec["environment"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _start_agent(self, settings: dict[str, Any]) -> None:
        """Run the software-config agent beside the command, as a member of the server."""
        environment = dict(self.spec["environment"])
        if os.environ.get("PYTHONPATH"):
            environment["PYTHONPATH"] = os.environ["PYTHONPATH"]
        environment.update(
            KILN_AGENT_METADATA_URL=str(settings["metadata_url"]),
            KILN_AGENT_CREDENTIAL=str(settings.get("credential") or ""),
            KILN_AGENT_POLL_SECONDS=str(settings.get("poll_seconds") or ""),
            KILN_AGENT_DIR=str(self.work / AGENT_DIRECTORY),
        )
        with open(self.work / CONSOLE_LOG, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "kiln.clients.local.agent"],
                cwd=self.work,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.record(agent_pid=process.pid)

    def _call(self, argv: list[str]) -> int:
        try:
            return self._start(argv).wait()
        except OSError as error:
            self.console(f"cannot run {argv[0]}: {error}")
            return 127

    def finish(self, phase: str, reason: str) -> NoReturn:
        """Record how the server ended, stop the rest of its group, and exit."""
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self.record(phase=phase, reason=reason)
        self.console(f"server {phase}: {reason}")
        marker = f"KILN_SERVER_ID={self.spec['id']}".encode()
        deadline = time.monotonic() + float(self.spec.get("stop_grace_seconds", 5.0))
        left = members(os.getpid(), self.state["start"], marker)
        for signum in (signal.SIGTERM, signal.SIGKILL):
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signum)
            while (left := members(os.getpid(), self.state["start"], marker)) and (
                time.monotonic() < deadline
            ):
                time.sleep(0.05)
            deadline = time.monotonic() + 5.0
        os._exit(0)


def _on_term(signum: int, frame: FrameType | None) -> None:
    raise Stopped


def detach() -> None:
    """Become a daemon: the first process exits, the second leads a new session."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()


def main(arguments: list[str]) -> None:
    directory = Path(arguments[0])
    detach()
    supervisor = Supervisor(directory)
    signal.signal(signal.SIGTERM, _on_term)
    pid = os.getpid()
    supervisor.record(pid=pid, start=start_ticks(pid), phase=BOOTING, reason="")
    sys.stdout.write(f"{pid}\n")
    sys.stdout.flush()
    log = os.open(directory / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    supervisor.run()


if __name__ == "__main__":
    main(sys.argv[1:])
