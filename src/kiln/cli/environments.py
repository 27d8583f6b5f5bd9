"""Environments shipped with Kiln, named on the command line: ``-e local``.

Kiln carries a few Heat environments as package data (``kiln/environments``),
so an installed Kiln can use them without knowing where it is installed. An
``-e`` value that names an existing file is that file; a bare name with no
such file names a shipped environment instead.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

#: The package directory that holds the shipped environments.
SHIPPED_PACKAGE = "kiln"
SHIPPED_DIRECTORY = "environments"


def shipped_environment(name: str) -> Path | None:
    """The shipped environment called ``name`` (``local`` for local.yaml), if there is one."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    candidate = resources.files(SHIPPED_PACKAGE) / SHIPPED_DIRECTORY / f"{name}.yaml"
    return Path(str(candidate)) if candidate.is_file() else None


def shipped_environment_names() -> list[str]:
    """The names ``-e`` accepts for the environments shipped with Kiln."""
    directory = resources.files(SHIPPED_PACKAGE) / SHIPPED_DIRECTORY
    if not directory.is_dir():
        return []
    names = (entry.name for entry in directory.iterdir() if entry.is_file())
    return sorted(name.removesuffix(".yaml") for name in names if name.endswith(".yaml"))


def resolve_environments(
    context: click.Context, parameter: click.Parameter, values: tuple[Path, ...]
) -> tuple[Path, ...]:
    """The ``-e`` values as files: existing paths as given, bare names as shipped ones."""
    resolved = []
    for value in values:
        if value.exists():
            resolved.append(value)
            continue
        shipped = shipped_environment(str(value))
        if shipped is None:
            known = ", ".join(shipped_environment_names()) or "none"
            raise click.BadParameter(
                f"{value}: no such file, nor an environment shipped with Kiln ({known})",
                context,
                parameter,
            )
        resolved.append(shipped)
    return tuple(resolved)
