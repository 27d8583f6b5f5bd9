"""Typed settings, built once at the edge and passed down explicitly.

Nothing in Kiln reads configuration at import time; code that needs a limit
takes a :class:`TemplateLimits` (or the whole :class:`Settings`) as an argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TemplateLimits:
    """Bounds that keep hostile or accidental input from exhausting the service.

    Defaults follow Heat's (``max_template_size`` 524288 bytes,
    ``max_resources_per_stack`` 1000, ``max_stacks_per_tenant`` 512); the parser
    bounds are Kiln's own.
    """

    max_template_bytes: int = 512 * 1024
    max_resources_per_stack: int = 1000
    #: Top-level stacks one project may hold (Heat's max_stacks_per_tenant).
    max_stacks_per_project: int = 512
    #: Provider templates and nested stacks inside each other (Heat's max_nested_stack_depth).
    max_stack_nesting_depth: int = 5
    #: Total nodes a document may expand to once YAML aliases are followed.
    max_document_nodes: int = 1_000_000
    #: Deepest nesting of mappings/sequences in one document.
    max_nesting_depth: int = 200
    #: Longest integer literal, in digits (Python's own guard is 4300).
    max_integer_digits: int = 1000
    #: yaql: longest expression text and its evaluation budget.
    max_yaql_expression_length: int = 10_000
    max_yaql_memory_items: int = 100_000
    max_yaql_seconds: float = 2.0
    #: Longest result a string function may produce (guards repeat/str_replace bombs).
    max_value_chars: int = 10 * 1024 * 1024


#: Environment variables that override a limit, e.g. ``KILN_MAX_TEMPLATE_BYTES=1048576``.
LIMIT_VARIABLES = {f"KILN_{name.upper()}": name for name in TemplateLimits.__dataclass_fields__}


def limits_from_environment(environment: Mapping[str, str]) -> TemplateLimits:
    """Limits with overrides from ``KILN_<LIMIT>`` variables; bad values raise ValueError.

    The caller passes the environment in (the CLI gives ``os.environ``), so
    nothing here reads process state at import time.
    """
    overrides: dict[str, Any] = {}
    defaults = TemplateLimits()
    for variable, name in LIMIT_VARIABLES.items():
        text = environment.get(variable)
        if text is None:
            continue
        kind = type(getattr(defaults, name))
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(f"{variable} must be a number, not {text!r}") from None
        if value <= 0:
            raise ValueError(f"{variable} must be positive, not {text!r}")
        overrides[name] = value
    return replace(defaults, **overrides)


@dataclass(frozen=True)
class LocalSettings:
    """The Local provider's backend: where servers keep their state, and their addresses.

    ``root`` None means ``$KILN_HOME/local``. Linux routes all of 127.0.0.0/8
    to the loopback interface, so any range inside it works.
    """

    root: Path | None = None
    address_range: str = "127.77.0.0/16"
    #: Seconds a stopped server's processes get between SIGTERM and SIGKILL.
    stop_grace_seconds: float = 5.0


def local_settings_from_environment(environment: Mapping[str, str]) -> LocalSettings:
    """``KILN_LOCAL_ROOT``, ``KILN_LOCAL_ADDRESS_RANGE``, ``KILN_LOCAL_STOP_GRACE_SECONDS``."""
    defaults = LocalSettings()
    root = environment.get("KILN_LOCAL_ROOT")
    grace = environment.get("KILN_LOCAL_STOP_GRACE_SECONDS")
    try:
        seconds = float(grace) if grace else defaults.stop_grace_seconds
    except ValueError:
        raise ValueError(f"KILN_LOCAL_STOP_GRACE_SECONDS must be a number, not {grace!r}") from None
    return LocalSettings(
        root=Path(root) if root else None,
        address_range=environment.get("KILN_LOCAL_ADDRESS_RANGE") or defaults.address_range,
        stop_grace_seconds=seconds,
    )


#: Where Kiln's API is reached unless configured otherwise (Heat's port).
DEFAULT_API_URL = "http://127.0.0.1:8004"
#: The variable that names the API's URL as servers and signal URLs should use it.
API_URL_VARIABLE = "KILN_API_URL"


def api_url_from_environment(environment: Mapping[str, str]) -> str:
    """``KILN_API_URL``, or the default: the base of every signal URL Kiln hands out."""
    return (environment.get(API_URL_VARIABLE) or DEFAULT_API_URL).rstrip("/")


def served_api_url(host: str, port: int) -> str:
    """The URL a client on this machine reaches ``kiln serve --host HOST --port PORT`` at.

    A wildcard address accepts connections on every interface but is no
    address to connect to: loopback stands for it.
    """
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


@dataclass(frozen=True)
class Settings:
    limits: TemplateLimits = field(default_factory=TemplateLimits)
    local: LocalSettings = field(default_factory=LocalSettings)
