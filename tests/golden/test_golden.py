"""Whole templates give exactly the diagnostics recorded in tests/golden/expected."""

from __future__ import annotations

import json
from typing import Any

import pytest

from golden import cases, expected_path, run_case


@pytest.mark.parametrize("case", cases(), ids=lambda case: case["name"])
def test_golden(case: dict[str, Any]) -> None:
    expected = json.loads(expected_path(case).read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(run_case(case), default=str))
    assert actual == expected


def test_hidden_values_never_reach_golden_output() -> None:
    for case in cases():
        secret = case.get("secret")
        if secret:
            assert secret not in json.dumps(run_case(case), default=str)
