"""The in-server agent of a Local::Server: ``python -m kiln.clients.local.agent``.

Heat's in-guest flow on one machine. In a Nova server os-collect-config
polls the server's deployment metadata, heat-config hands each deployment
to the hook of its group, and heat-config-notify signals the outcome; here
one small process does all three for the ``script`` group. It polls
``KILN_AGENT_METADATA_URL`` (the server's metadata in Kiln's API,
authenticated with ``KILN_AGENT_CREDENTIAL``), and for each deployment not
yet applied it writes the config to a file, runs it with the deployment's
inputs as environment variables (outputs are read back from the files named
``$heat_outputs_path.NAME``, as Heat's script hook does) and posts
``deploy_stdout``, ``deploy_stderr``, ``deploy_status_code`` and the outputs
to the deployment's signal URL.

A deployment is applied once: each deploy is its own derived config with an
id of its own, and the ids applied are recorded in the server's working
directory, so neither a later poll nor a restarted agent runs it again;
a new action or changed inputs make a new derived config, which runs.
Standard library only (and Kiln's file helpers): it runs with the server's environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiln.clients.local.files import write_private

__all__ = ["Agent", "run_script"]

METADATA_URL_VARIABLE = "KILN_AGENT_METADATA_URL"
CREDENTIAL_VARIABLE = "KILN_AGENT_CREDENTIAL"
POLL_VARIABLE = "KILN_AGENT_POLL_SECONDS"
DIRECTORY_VARIABLE = "KILN_AGENT_DIR"
#: Seconds between two polls unless ``KILN_AGENT_POLL_SECONDS`` says otherwise.
DEFAULT_POLL_SECONDS = 1.0
#: The only hook this agent has (Heat's heat-config-script).
SCRIPT_GROUP = "script"
APPLIED_FILE = "applied.json"
NO_SIGNAL = "NO_SIGNAL"
#: What the agent's own settings are called: they stay out of the scripts' environment.
AGENT_VARIABLES = (METADATA_URL_VARIABLE, CREDENTIAL_VARIABLE, POLL_VARIABLE, DIRECTORY_VARIABLE)


class SignalError(Exception):
    """The outcome could not be delivered; the next poll tries again."""


def _opener() -> urllib.request.OpenerDirector:
    # Kiln's API is on this machine: never through a proxy.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Agent:
    def __init__(
        self,
        metadata_url: str,
        credential: str,
        directory: Path,
        environment: Mapping[str, str],
    ) -> None:
        self.metadata_url = metadata_url
        self.credential = credential
        self.directory = directory
        self.environment = {
            name: value for name, value in environment.items() if name not in AGENT_VARIABLES
        }
        self.opener = _opener()

    @property
    def applied_path(self) -> Path:
        return self.directory / APPLIED_FILE

    def applied(self) -> list[str]:
        try:
            found = json.loads(self.applied_path.read_text())
        except (FileNotFoundError, ValueError):
            return []
        return [str(item) for item in found] if isinstance(found, list) else []

    def _mark_applied(self, config_id: str) -> None:
        applied = [*self.applied(), config_id]
        temporary = self.applied_path.with_name(f".{APPLIED_FILE}.{os.getpid()}")
        temporary.write_text(json.dumps(applied))
        os.replace(temporary, self.applied_path)

    def metadata(self) -> list[dict[str, Any]]:
        """The server's deployments as the API serves them (an empty list when unreachable)."""
        request = urllib.request.Request(
            self.metadata_url,
            headers={"X-Auth-Token": self.credential, "Accept": "application/json"},
        )
        try:
            with self.opener.open(request, timeout=30) as answer:
                body = json.loads(answer.read())
        except (OSError, ValueError) as error:
            log(f"cannot read the deployments: {error}")
            return []
        entries = body.get("metadata") if isinstance(body, dict) else None
        return [entry for entry in entries or [] if isinstance(entry, dict)]

    def poll_once(self) -> int:
        """Apply every deployment not applied yet; how many were applied."""
        done = set(self.applied())
        count = 0
        for entry in self.metadata():
            config_id = str(entry.get("id") or "")
            if not config_id or config_id in done:
                continue
            if entry.get("group") != SCRIPT_GROUP:
                log(f"skipping config {config_id}: no hook for group {entry.get('group')!r}")
                self._mark_applied(config_id)
                continue
            try:
                self.apply(entry)
            except SignalError as error:
                log(f"config {config_id}: {error}; trying again")
                continue
            self._mark_applied(config_id)
            done.add(config_id)
            count += 1
        return count

    def apply(self, entry: Mapping[str, Any]) -> None:
        config_id = str(entry["id"])
        inputs = {
            str(item.get("name")): item.get("value")
            for item in entry.get("inputs") or []
            if isinstance(item, dict) and item.get("name")
        }
        log(f"running config {config_id} ({inputs.get('deploy_action')})")
        outcome = run_script(
            config_id,
            entry.get("config"),
            inputs,
            [str(o.get("name")) for o in entry.get("outputs") or [] if isinstance(o, dict)],
            self.directory / "scripts",
            self.environment,
        )
        log(f"config {config_id} exited with status {outcome['deploy_status_code']}")
        url = inputs.get("deploy_signal_id")
        if inputs.get("deploy_signal_transport") == NO_SIGNAL or not url:
            return
        self.signal(str(url), outcome)

    def signal(self, url: str, outcome: Mapping[str, Any]) -> None:
        request = urllib.request.Request(
            url,
            data=json.dumps(outcome).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with self.opener.open(request, timeout=30):
                return
        except urllib.error.HTTPError as error:
            if error.code >= 500:
                raise SignalError(f"the signal was refused ({error.code})") from None
            # The deployment is gone or took its outcome already: nothing to try again.
            log(f"the signal was refused ({error.code}); not trying again")
        except OSError as error:
            raise SignalError(f"cannot signal: {error}") from None

    def run(self, poll_seconds: float) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            self.poll_once()
            time.sleep(poll_seconds)


def run_script(
    config_id: str,
    config: Any,
    inputs: Mapping[str, Any],
    output_names: list[str],
    directory: Path,
    environment: Mapping[str, str],
) -> dict[str, Any]:
    """Heat's script hook: the config runs with the inputs as environment variables, and
    each output is what it wrote to ``$heat_outputs_path.NAME``."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / config_id
    text = config if isinstance(config, str) else json.dumps(config)
    write_private(script, text, 0o700)  # a config may hold secrets
    outputs_path = directory / f"{config_id}.outputs"
    variables = dict(environment)
    variables.update({name: _text(value) for name, value in inputs.items()})
    variables["heat_outputs_path"] = str(outputs_path)
    argv = [str(script)] if text.startswith("#!") else ["/bin/sh", str(script)]
    try:
        finished = subprocess.run(
            argv,
            cwd=directory,
            env=variables,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        stdout, stderr, status = finished.stdout, finished.stderr, finished.returncode
    except OSError as error:
        stdout, stderr, status = b"", str(error).encode(), 127
    outcome: dict[str, Any] = {
        "deploy_stdout": stdout.decode(errors="replace"),
        "deploy_stderr": stderr.decode(errors="replace"),
        "deploy_status_code": status,
    }
    for name in output_names:
        path = Path(f"{outputs_path}.{name}")
        if name not in outcome and path.exists():
            outcome[name] = path.read_text(errors="replace")
    return outcome


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def log(message: str) -> None:
    sys.stdout.write(f"[kiln-agent] {message}\n")
    sys.stdout.flush()


def main() -> None:
    environment = dict(os.environ)
    agent = Agent(
        environment[METADATA_URL_VARIABLE],
        environment.get(CREDENTIAL_VARIABLE, ""),
        Path(environment.get(DIRECTORY_VARIABLE) or ".kiln-agent").resolve(),
        environment,
    )
    poll = float(environment.get(POLL_VARIABLE) or DEFAULT_POLL_SECONDS)
    log(f"polling {agent.metadata_url} every {poll} s")
    agent.run(poll)


if __name__ == "__main__":
    main()
