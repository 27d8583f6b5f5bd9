"""Limits come from code defaults (Heat's) and KILN_<LIMIT> variables passed in."""

from __future__ import annotations

import pytest

from kiln.config import (
    TemplateLimits,
    api_url_from_environment,
    limits_from_environment,
    served_api_url,
)


def test_defaults_are_heats() -> None:
    limits = limits_from_environment({})
    assert limits == TemplateLimits()
    assert limits.max_template_bytes == 524_288
    assert limits.max_resources_per_stack == 1000
    assert limits.max_stack_nesting_depth == 5


def test_variables_override_limits() -> None:
    limits = limits_from_environment(
        {"KILN_MAX_TEMPLATE_BYTES": "1048576", "KILN_MAX_YAQL_SECONDS": "0.5", "OTHER": "x"}
    )
    assert limits.max_template_bytes == 1_048_576
    assert limits.max_yaql_seconds == 0.5
    assert limits.max_resources_per_stack == 1000


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        pytest.param(
            {"KILN_MAX_TEMPLATE_BYTES": "big"},
            "KILN_MAX_TEMPLATE_BYTES must be a number, not 'big'",
            id="text",
        ),
        pytest.param(
            {"KILN_MAX_RESOURCES_PER_STACK": "0"},
            "KILN_MAX_RESOURCES_PER_STACK must be positive, not '0'",
            id="zero",
        ),
    ],
)
def test_bad_values_are_refused(environment: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        limits_from_environment(environment)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        pytest.param("127.0.0.1", 8004, "http://127.0.0.1:8004", id="loopback"),
        pytest.param("0.0.0.0", 9001, "http://127.0.0.1:9001", id="every-ipv4-interface"),
        pytest.param("::", 9002, "http://[::1]:9002", id="every-ipv6-interface"),
        pytest.param("::1", 9003, "http://[::1]:9003", id="ipv6-loopback"),
        pytest.param("kiln.example", 80, "http://kiln.example:80", id="host-name"),
    ],
)
def test_serve_names_the_api_by_where_it_listens(host: str, port: int, url: str) -> None:
    assert served_api_url(host, port) == url


def test_the_api_url_is_kiln_api_url_or_heats_port() -> None:
    assert api_url_from_environment({}) == "http://127.0.0.1:8004"
    assert api_url_from_environment({"KILN_API_URL": "http://kiln:9/"}) == "http://kiln:9"
