"""Embedded mode hands out signal URLs under ``KILN_API_URL`` (Heat's port when unset)."""

from __future__ import annotations

import pytest
from cli_support import Kiln

HANDLE = """\
heat_template_version: 2018-08-31
resources:
  handle: {type: OS::Heat::WaitConditionHandle}
outputs:
  endpoint: {value: {get_attr: [handle, endpoint]}}
"""


@pytest.mark.parametrize(
    ("api_url", "prefix"),
    [
        pytest.param(None, "http://127.0.0.1:8004/v1/", id="default"),
        pytest.param("http://kiln.example:9999/", "http://kiln.example:9999/v1/", id="configured"),
    ],
)
def test_signal_urls_start_with_the_configured_api_url(
    kiln: Kiln, api_url: str | None, prefix: str
) -> None:
    if api_url is not None:
        kiln.environ["KILN_API_URL"] = api_url
    template = str(kiln.write("handle.yaml", HANDLE))
    created = kiln.run("stack", "create", "signals", "-t", template, "--wait")
    assert created.returncode == 0, created.stderr
    endpoint = kiln.data("stack", "output", "show", "signals", "endpoint")["output_value"]
    assert endpoint.startswith(f"{prefix}default/stacks/signals/")
    assert endpoint.endswith("/resources/handle/signal")
