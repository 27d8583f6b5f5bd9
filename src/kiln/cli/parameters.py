"""``key=value`` parameters as python-heatclient takes them, shared by the commands."""

from __future__ import annotations

import click


def parse_parameters(values: tuple[str, ...]) -> dict[str, str]:
    """``-P k=v`` as in python-heatclient, including ``-P "a=1;b=2"``."""
    parameters: dict[str, str] = {}
    for value in values:
        for item in value.split(";"):
            if not item.strip():
                continue
            key, separator, text = item.partition("=")
            if not separator:
                raise click.BadParameter(f"{item!r} is not key=value", param_hint="--parameter")
            parameters[key.strip()] = text
    return parameters
