"""The process table, read from ``/proc``: identities that survive pid reuse.

A pid alone names a process only while it lives; once it ends the kernel may
give the number to another. A process is identified here by its pid together
with its start time (clock ticks since boot, field 22 of ``/proc/PID/stat``),
which no later process can share. Standard library only: the supervisor
imports this module too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ProcessEntry",
    "alive",
    "entries",
    "entry",
    "members",
    "start_ticks",
    "stop",
]

PROC = "/proc"


@dataclass(frozen=True)
class ProcessEntry:
    pid: int
    pgid: int
    start: int
    state: str

    @property
    def running(self) -> bool:
        """False for a zombie (ended, waiting for its parent to reap it) or a dead task."""
        return self.state not in ("Z", "X")


def entry(pid: int) -> ProcessEntry | None:
    """The process's entry, or None when no such process exists."""
    try:
        with open(f"{PROC}/{pid}/stat", encoding="ascii", errors="replace") as stat:
            text = stat.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) is in parentheses and may contain spaces.
    fields = text[text.rfind(")") + 2 :].split()
    return ProcessEntry(pid, int(fields[2]), int(fields[19]), fields[0])


def start_ticks(pid: int) -> int | None:
    """When the process started, or None when it does not run (gone or a zombie)."""
    found = entry(pid)
    return found.start if found is not None and found.running else None


def alive(pid: int, start: int) -> bool:
    """Whether the process that started at ``start`` with this pid still runs."""
    return start_ticks(pid) == start


def entries() -> Iterable[ProcessEntry]:
    """Every process of this user that still runs."""
    uid = os.getuid()
    for name in os.listdir(PROC):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"{PROC}/{name}").st_uid != uid:
                continue
        except FileNotFoundError:
            continue
        found = entry(int(name))
        if found is not None and found.running:
            yield found


def members(pgid: int, leader_start: int, marker: bytes) -> list[int]:
    """The running processes that belong to one server.

    Those in its process group, provided the group is still the one whose
    leader started at ``leader_start`` (Linux never reuses a number still in
    use as a group id, so a group without its leader is still the same group),
    and those carrying ``marker`` in their environment (a process that left
    the group with ``setsid`` still inherited it).
    """
    leader = entry(pgid)
    group_is_ours = leader is None or leader.start == leader_start
    found = []
    for process in entries():
        if process.pid == os.getpid():
            continue
        if (group_is_ours and process.pgid == pgid) or _carries(process.pid, marker):
            found.append(process.pid)
    return found


def _carries(pid: int, marker: bytes) -> bool:
    try:
        with open(f"{PROC}/{pid}/environ", "rb") as environ:
            return marker in environ.read().split(b"\0")
    except OSError:
        return False


def stop(pgid: int, leader_start: int, marker: bytes, grace: float) -> bool:
    """SIGTERM every member, SIGKILL those left after ``grace`` seconds; True if none remain."""
    deadline = time.monotonic() + grace
    running = members(pgid, leader_start, marker)
    _signal_all(running, signal.SIGTERM)
    # A suspended (stopped) process only sees SIGTERM once it runs again.
    _signal_all(running, signal.SIGCONT)
    while (left := members(pgid, leader_start, marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not left:
        return True
    _signal_all(left, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while (left := members(pgid, leader_start, marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not left


def signal_all(pids: Iterable[int], signum: int) -> None:
    """Send ``signum`` to each process that still exists."""
    _signal_all(pids, signum)


def _signal_all(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)
