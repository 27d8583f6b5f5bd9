"""Printing for the CLI: diagnostics lines, summaries, function tables.

Diagnostics are one per line in the ``FILE:LINE:COL CODE path message`` form
that editors and CI annotators parse; colour only when writing to a terminal.
"""

from __future__ import annotations

import inspect

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kiln.errors import Severity
from kiln.template.dialects import CFN_DIALECT, HOT_DIALECTS, hot_dialect
from kiln.template.functions.base import Removed
from kiln.template.validate import ValidationResult

_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def print_diagnostics(name: str, result: ValidationResult) -> None:
    console = _console()
    for diagnostic in result.diagnostics:
        style = _STYLES[diagnostic.severity]
        line = escape(diagnostic.render())
        code = escape(diagnostic.code)
        console.print(line.replace(f" {code} ", f" [{style}]{code}[/{style}] ", 1))
    errors = len(result.errors)
    warnings = sum(1 for d in result.diagnostics if d.severity is Severity.WARNING)
    template = result.template
    if errors == 0 and template is not None:
        summary = (
            f"{name}: valid {template.dialect.kind.upper()} {template.dialect.version} template, "
            f"{_count(len(template.resources), 'resource')}, "
            f"{_count(len(result.declarations), 'parameter')}, "
            f"{_count(len(template.outputs), 'output')}"
        )
        if warnings:
            summary += f" ({_count(warnings, 'warning')})"
        console.print(f"[green]{escape(summary)}[/green]")
    else:
        console.print(
            f"[red]{escape(name)}: {_count(errors, 'error')}, {_count(warnings, 'warning')}[/red]"
        )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def print_functions(version: str) -> None:
    dialect = CFN_DIALECT if version == "cfn" else hot_dialect(version)
    if dialect is None:  # click's Choice keeps this from happening
        raise ValueError(version)
    table = Table(title=f"{dialect.version_key} {dialect.version}", show_lines=False)
    table.add_column("function")
    table.add_column("in")
    table.add_column("since")
    table.add_column("what it does")
    first_seen = dialect.known_elsewhere
    rows: dict[str, tuple[str, str]] = {}
    for context, functions in (
        ("values", dialect.functions),
        ("conditions", dialect.condition_functions),
    ):
        for name, implementation in functions.items():
            if implementation is Removed:
                continue
            contexts, summary = rows.get(name, ("", _summary(implementation)))
            rows[name] = (f"{contexts}, {context}" if contexts else context, summary)
    for name in sorted(rows):
        contexts, summary = rows[name]
        since = first_seen.get(name, "") if dialect.kind == "hot" else ""
        table.add_row(name, contexts, since, summary)
    _console().print(table)
    if dialect.kind == "hot":
        newer = [v for v in HOT_DIALECTS if v > dialect.version]
        if newer:
            _console().print(f"Newer versions: {', '.join(newer)}")


def _summary(implementation: type) -> str:
    doc = inspect.getdoc(implementation) or ""
    return doc.splitlines()[0] if doc else ""
