"""What a Local::Server's ``user_data`` asks for, as commands to run in order.

A script (``#!`` line, or plain shell) runs as it is. ``#cloud-config``
supports the subset that makes sense on a shared machine: ``write_files``
(paths are taken inside the server's working directory, never the host's
root) and ``runcmd``; ``packages`` and every other key are ignored, with a
warning in the console log, since installing software on the host is not a
server's business.
"""

from __future__ import annotations

import base64
import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from kiln.clients.local.files import write_private

__all__ = ["CLOUD_CONFIG_HEADER", "prepare"]

CLOUD_CONFIG_HEADER = "#cloud-config"
SUPPORTED_KEYS = frozenset({"write_files", "runcmd"})


class UserDataError(Exception):
    """The user_data cannot be understood; the message goes to the console log."""


def prepare(user_data: str, directory: Path, warn: Callable[[str], None]) -> list[list[str]]:
    """Write what the user_data says to write, and return the commands it says to run."""
    if not user_data.strip():
        return []
    if user_data.lstrip().startswith(CLOUD_CONFIG_HEADER):
        return _cloud_config(user_data, directory, warn)
    script = directory / "user_data"
    write_private(script, user_data, 0o700)  # user_data often holds secrets
    if user_data.startswith("#!"):
        return [[str(script)]]
    return [["/bin/sh", str(script)]]


def _cloud_config(text: str, directory: Path, warn: Callable[[str], None]) -> list[list[str]]:
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UserDataError(f"#cloud-config is not valid YAML: {error}") from None
    if config is None:
        return []
    if not isinstance(config, dict):
        raise UserDataError("#cloud-config must be a mapping")
    for key in sorted(set(config) - SUPPORTED_KEYS):
        warn(f"cloud-config key {key!r} is not supported by Local::Server and was ignored")
    for item in config.get("write_files") or []:
        _write_file(item, directory, warn)
    commands: list[list[str]] = []
    for command in config.get("runcmd") or []:
        if isinstance(command, list):
            commands.append([str(part) for part in command])
        else:
            commands.append(["/bin/sh", "-c", str(command)])
    return commands


def _write_file(item: Any, directory: Path, warn: Callable[[str], None]) -> None:
    if not isinstance(item, dict) or not item.get("path"):
        raise UserDataError("each write_files entry needs a path")
    relative = str(item["path"]).lstrip("/")
    target = (directory / relative).resolve()
    if directory.resolve() not in target.parents:
        raise UserDataError(f"write_files path {item['path']!r} leaves the working directory")
    if str(item["path"]).startswith("/"):
        warn(f"write_files: {item['path']} is written to {target}")
    content = _content(item)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "ab" if item.get("append") else "wb") as handle:
        handle.write(content)
    permissions = item.get("permissions")
    if permissions is not None:
        os.chmod(target, int(str(permissions), 8))


def _content(item: dict[str, Any]) -> bytes:
    raw = item.get("content") or ""
    encoding = str(item.get("encoding") or "text").lower()
    data = raw.encode() if isinstance(raw, str) else bytes(raw)
    if encoding in ("b64", "base64"):
        return base64.b64decode(data)
    if encoding in ("gz+b64", "gzip+base64", "gz+base64", "gzip+b64"):
        return gzip.decompress(base64.b64decode(data))
    if encoding in ("gz", "gzip"):
        return gzip.decompress(data)
    return data
