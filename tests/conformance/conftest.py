"""Prints the per-format conformance counts at the end of the run."""

from __future__ import annotations

import pytest
from corpus import RESULTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RESULTS:
        return
    terminalreporter.section("template corpus conformance")
    formats = sorted({(fmt, syntax) for fmt, syntax, _ in RESULTS})
    for fmt, syntax in formats:
        passed = RESULTS[(fmt, syntax, "passed")]
        failed = RESULTS[(fmt, syntax, "failed")]
        terminalreporter.write_line(
            f"{fmt.upper():4} {syntax:5} {passed:4} conform, {failed:3} do not"
        )
