"""The files the Local cloud keeps its servers, volumes and load balancers in.

Kiln processes and the Local cloud's own processes (supervisors, agents)
share them, so every write is atomic (a reader sees the old content or the
new, never half), every change is serialised by a lock file that holds
across processes, and a file that may hold a secret (a server's spec holds
its agent's API credential) is readable by its owner alone from the moment
it exists. Standard library only: supervisors import it too.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

#: Mode of every file written here: the owner's alone (a spec may hold a credential).
PRIVATE = 0o600
#: Where a Local process (supervisor, balancer) records itself once it runs.
STATE_FILE = "state.json"
#: The longest wait for a new Local process to record itself.
START_TIMEOUT = 30.0


def write_private(path: Path, text: str, mode: int = PRIVATE) -> None:
    """Write ``path`` as a new file with ``mode`` from its creation on.

    A script or spec may hold a secret: it is never, not even for a moment,
    readable by others (a chmod after writing would leave that moment). An
    old file in the way goes first, so its mode is not kept.
    """
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` atomically with a file only its owner can read."""
    # A name no other writer (thread or process) uses: nobody else's file is removed.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
    try:
        write_private(temporary, json.dumps(data, sort_keys=True))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any]:
    """The object in ``path``; empty when it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_id(text: str) -> bool:
    """Whether ``text`` is a UUID in its canonical form (so it names no other path)."""
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


@contextlib.contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Hold the lock in ``lock_file`` (made if missing) across Kiln processes."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def launch(
    module: str, directory: Path, inherited: Sequence[str], marker: tuple[str, str]
) -> str | None:
    """Start ``python -m module directory``, which detaches and records itself.

    The process gets only the ``inherited`` variables of Kiln's environment,
    a ``PYTHONPATH`` that finds Kiln, and the ``marker`` variable that tells
    its process group apart. None once it has recorded itself in
    ``directory/state.json``; else the last line it wrote to standard error.
    """
    package_root = str(Path(__file__).resolve().parents[3])
    environment = {name: os.environ[name] for name in inherited if name in os.environ}
    path = [package_root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    environment["PYTHONPATH"] = os.pathsep.join(path)
    environment[marker[0]] = marker[1]
    result = subprocess.run(
        [sys.executable, "-m", module, str(directory)],
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    if (directory / STATE_FILE).exists():
        return None
    return (result.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]


def archive(source: Path, target: Path) -> None:
    """Write a tar.gz of ``source``'s contents to ``target`` in one step (never half of one)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    with tarfile.open(partial, "w:gz") as tar:
        tar.add(source, arcname=".")
    os.replace(partial, target)
