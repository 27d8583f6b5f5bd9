"""How a nested stack's failure reads as its parent resource's (Heat's format)."""

from __future__ import annotations

import pytest

from kiln.resources.nested import nested_failure


@pytest.mark.parametrize(
    ("reason", "action", "expected"),
    [
        pytest.param(
            "Resource CREATE failed: ValueError: resources.oops: Test Resource failed oops",
            "CREATE",
            ("ValueError", ("resources", "oops"), "Test Resource failed oops"),
            id="a member's failure keeps its kind and path",
        ),
        pytest.param(
            "Resource UPDATE failed: ResourceFailed: resources.a.resources.b: x: y",
            "UPDATE",
            ("ResourceFailed", ("resources", "a", "resources", "b"), "x: y"),
            id="deeper paths and colons in the message",
        ),
        pytest.param(
            "Timed out",
            "CREATE",
            ("ResourceFailed", (), "Timed out"),
            id="a reason of another shape is kept whole",
        ),
        pytest.param(
            "Resource CREATE failed: the nested template is not valid: t:1:2 S6004 a b",
            "CREATE",
            (
                "ResourceFailed",
                (),
                "Resource CREATE failed: the nested template is not valid: t:1:2 S6004 a b",
            ),
            id="a prose reason is not split",
        ),
    ],
)
def test_nested_failure(
    reason: str, action: str, expected: tuple[str, tuple[str, ...], str]
) -> None:
    failure = nested_failure(reason, action)
    assert (failure.kind, failure.path, failure.message) == expected
