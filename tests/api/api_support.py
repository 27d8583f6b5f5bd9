"""A real ``kiln serve`` process on a free loopback port, and an HTTP client for it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

#: A template for a nested stack of one resource (``inner``).
CHILD = {
    "heat_template_version": "2018-08-31",
    "resources": {"inner": {"type": "OS::Heat::None"}},
}

#: The code these tests belong to, put first on the server's path.
SOURCE = Path(__file__).resolve().parents[2] / "src"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """One ``kiln serve`` process with a KILN_HOME of its own."""

    home: Path
    auth: str = "none"
    log_level: str = "warning"
    environ: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    workers: int = 1
    process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
        python_path = os.pathsep.join(filter(None, [str(SOURCE), base.get("PYTHONPATH")]))
        env = {**base, "PYTHONPATH": python_path, "KILN_HOME": str(self.home), **self.environ}
        self.home.mkdir(parents=True, exist_ok=True)
        log = (self.home / "server.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kiln.cli",
                "serve",
                "--port",
                str(self.port),
                "--auth",
                self.auth,
                "--log-level",
                self.log_level,
                "--workers",
                str(self.workers),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/", timeout=1).status_code == 300:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("kiln serve did not start:\n" + self.log())
            time.sleep(0.1)

    def log(self) -> str:
        return (self.home / "server.log").read_text()

    def stop(self, timeout: float = 40) -> int:
        """SIGTERM (a graceful shutdown), and the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def client(self, project: str | None = None, token: str | None = None) -> Api:
        headers = {"X-Auth-Token": token} if token else {}
        return Api(
            httpx.Client(base_url=self.url, headers=headers, timeout=30),
            project or f"p-{uuid.uuid4().hex[:8]}",
        )


@dataclass
class Api:
    """Requests under ``/v1/{project}``."""

    http: httpx.Client
    project: str

    def path(self, path: str) -> str:
        return f"/v1/{self.project}{path}"

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.http.get(self.path(path), **options)

    def post(self, path: str, body: Any = None, **options: Any) -> httpx.Response:
        return self.http.post(self.path(path), json=body, **options)

    def put(self, path: str, body: Any = None, **options: Any) -> httpx.Response:
        return self.http.put(self.path(path), json=body, **options)

    def patch(self, path: str, body: Any = None, **options: Any) -> httpx.Response:
        return self.http.patch(self.path(path), json=body, **options)

    def delete(self, path: str, **options: Any) -> httpx.Response:
        return self.http.delete(self.path(path), **options)

    def stack(self, name: str) -> dict[str, Any]:
        shown = self.get(f"/stacks/{name}", follow_redirects=True)
        assert shown.status_code == 200, shown.text
        stack: dict[str, Any] = shown.json()["stack"]
        return stack

    def created(self, name: str, template: Any, **extra: Any) -> str:
        """Create a stack, wait until its create is over, and give its path ``/stacks/NAME/ID``."""
        answer = self.post("/stacks", {"stack_name": name, "template": template, **extra})
        assert answer.status_code == 201, answer.text
        self.wait(name)
        return f"/stacks/{name}/{answer.json()['stack']['id']}"

    def wait(self, name: str, timeout: float = 30) -> dict[str, Any]:
        """The stack once its operation is over."""
        deadline = time.monotonic() + timeout
        while True:
            stack = self.stack(name)
            if not stack["stack_status"].endswith("IN_PROGRESS"):
                return stack
            assert time.monotonic() < deadline, f"{name} still {stack['stack_status']}"
            time.sleep(0.05)


def until(check: Callable[[], Any], timeout: float = 30) -> Any:
    """Ask ``check`` again and again until it gives something true, and give that."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def error_of(answer: httpx.Response, status: int) -> dict[str, Any]:
    """The ``error`` of a Heat-shaped error answer with this status."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["code"] == status and set(body) == {"explanation", "code", "error", "title"}
    error: dict[str, Any] = body["error"]
    assert isinstance(error["message"], str) and error["traceback"] is None
    return error
