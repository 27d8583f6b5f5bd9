"""What a deployment gives its server, and what it makes of the server's signal (pure).

Each time a deployment runs for an action it stores a *derived config*: the
source config's content with every input given its value, plus Heat's
``deploy_*`` inputs (which server, which action, which stack and resource,
and where and how to signal the outcome) and the outputs every deployment
reports (``deploy_stdout``, ``deploy_stderr``, ``deploy_status_code``). The
server reads the derived config, runs it and signals back its outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiln.errors import ROOT, TemplatePath
from kiln.providers.errors import ResourceFailed
from kiln.providers.software_config import COMPLETE, FAILED

NO_SIGNAL = "NO_SIGNAL"
STDOUT, STDERR, STATUS_CODE = "deploy_stdout", "deploy_stderr", "deploy_status_code"
#: The outputs every deployment reports, whatever its config declares.
SIGNAL_OUTPUTS = (STDOUT, STDERR, STATUS_CODE)
_SIGNAL_OUTPUT_DESCRIPTIONS = {
    STDOUT: "What the configuration wrote to standard output.",
    STDERR: "What the configuration wrote to standard error.",
    STATUS_CODE: "The exit status of the configuration.",
}


class UserParameterMissing(ResourceFailed):
    """A strict structured deployment met an input name it was given no value for.

    Named after Heat's exception, so that the status reason reads as Heat's.
    """


@dataclass(frozen=True)
class Deployment:
    """What the ``deploy_*`` inputs tell the server about the deployment it runs."""

    server_id: str
    action: str
    stack_path: str
    resource_name: str
    signal_transport: str
    #: A URL that takes the outcome (with its token in the query); None for NO_SIGNAL.
    signal_url: str | None


@dataclass(frozen=True)
class SignalOutcome:
    """A deployment's new status after a signal, its outputs, and the event's words."""

    status: str
    status_reason: str
    output_values: dict[str, Any]
    event_reason: str


def derived_inputs(
    declared: Sequence[Mapping[str, Any]],
    input_values: Mapping[str, Any],
    deployment: Deployment,
) -> list[dict[str, Any]]:
    """The config's inputs with their values, then undeclared values, then Heat's ``deploy_*``."""
    remaining = dict(input_values)
    inputs = [
        {**entry, "value": remaining.pop(str(entry.get("name")), entry.get("default"))}
        for entry in declared
    ]
    inputs += [
        {"name": name, "type": "String", "value": value} for name, value in remaining.items()
    ]
    described = [
        ("deploy_server_id", "The id of the server deployed to.", deployment.server_id),
        ("deploy_action", "The action being deployed.", deployment.action),
        (
            "deploy_stack_id",
            "The stack the deployment belongs to (name/id).",
            deployment.stack_path,
        ),
        ("deploy_resource_name", "The deployment's resource name.", deployment.resource_name),
        (
            "deploy_signal_transport",
            "How the server signals the outcome.",
            deployment.signal_transport,
        ),
    ]
    if deployment.signal_url is not None:
        described += [
            ("deploy_signal_id", "Where to signal the outputs.", deployment.signal_url),
            ("deploy_signal_verb", "The HTTP method to signal with.", "POST"),
        ]
    inputs += [
        {"name": name, "description": description, "type": "String", "value": value}
        for name, description, value in described
    ]
    return inputs


def derived_outputs(declared: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The config's outputs, and the ones every deployment reports that it does not declare."""
    names = {entry.get("name") for entry in declared}
    return [dict(entry) for entry in declared] + [
        {"name": name, "description": description, "type": "String", "error_output": False}
        for name, description in _SIGNAL_OUTPUT_DESCRIPTIONS.items()
        if name not in names
    ]


def input_values_of(inputs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {str(entry.get("name")): entry.get("value") for entry in inputs}


def substituted(
    snippet: Any,
    inputs: Mapping[str, Any],
    input_key: str,
    *,
    strict: bool,
    path: TemplatePath = ROOT,
) -> Any:
    """``snippet`` with every ``{input_key: name}`` replaced by that input's value.

    Unknown names give None, or with ``strict`` :class:`UserParameterMissing`
    naming where in the config the reference is (paths start at ``path``).
    """
    if isinstance(snippet, Mapping):
        if len(snippet) == 1:
            ((key, argument),) = snippet.items()
            if key == input_key and isinstance(argument, str):
                if strict and argument not in inputs:
                    raise UserParameterMissing(
                        f"{path}: The Parameter ({argument}) was not provided."
                    )
                return inputs.get(argument)
        return {
            key: substituted(value, inputs, input_key, strict=strict, path=path / str(key))
            for key, value in snippet.items()
        }
    if isinstance(snippet, (list, tuple)):
        return [
            substituted(value, inputs, input_key, strict=strict, path=path / index)
            for index, value in enumerate(snippet)
        ]
    return snippet


def signal_outcome(
    deployment_id: str,
    details: Mapping[str, Any],
    outputs: Sequence[Mapping[str, Any]],
    previous: Mapping[str, Any],
) -> SignalOutcome:
    """Heat's reading of a server's signal.

    A non-zero ``deploy_status_code`` fails the deployment, and so does any
    output declared ``error_output`` that has a value; the reason names each
    (``name : value``). Declared outputs present in the signal and the three
    ``deploy_*`` outputs are kept.
    """
    values = dict(previous)
    failures: dict[str, Any] = {}
    code = details.get(STATUS_CODE)
    event_reason = f"deployment {deployment_id} succeeded"
    if code and str(code) != "0":
        failures[STATUS_CODE] = f"Deployment exited with non-zero status code: {code}"
        event_reason = f"deployment {deployment_id} failed ({code})"
    for output in outputs:
        name = str(output.get("name"))
        if name in details:
            values[name] = details[name]
            if output.get("error_output"):
                failures[name] = details[name]
                event_reason = f"deployment {deployment_id} failed"
    for name in SIGNAL_OUTPUTS:
        values[name] = details.get(name)
    if failures:
        reason = ", ".join(f"{name} : {value}" for name, value in failures.items())
        return SignalOutcome(FAILED, reason, values, event_reason)
    return SignalOutcome(COMPLETE, "Outputs received", values, event_reason)
