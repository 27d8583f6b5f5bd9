"""Templates and output parsing shared by the ``kiln stack`` command tests of both modes."""

from __future__ import annotations

import json
import re
from typing import Any

from cli_support import TIMESTAMP, UUID, Kiln

#: ``stack event list``: "TIME [resource]: ACTION_STATUS  reason".
EVENT_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \[([^\]]+)\]: ([A-Z]+_[A-Z_]+)  (.*)")
PASSWORD = "s3cret-Pa55word"
#: How a TestResource with ``fail: true`` named "broken" reports its failure.
BROKEN = "ValueError: resources.broken: Test Resource failed broken"

CREATE_TEMPLATE = """\
heat_template_version: 2018-08-31
description: Everything the create test looks at.
parameters:
  greeting:
    type: string
  password:
    type: string
    hidden: true
  length:
    type: number
    default: 12
resources:
  nothing:
    type: OS::Heat::None
  message:
    type: OS::Heat::Value
    properties:
      value: {list_join: [' ', [{get_param: greeting}, world]]}
  token:
    type: OS::Heat::RandomString
    properties:
      length: {get_param: length}
  item:
    type: OS::Heat::TestResource
    depends_on: nothing
    properties:
      value: {get_attr: [message, value]}
outputs:
  message:
    description: The greeting.
    value: {get_attr: [message, value]}
  item_output:
    value: {get_attr: [item, output]}
  token:
    value: {get_attr: [token, value]}
  broken:
    description: Joins a string, which is not a list.
    value: {list_join: [',', {get_attr: [message, value]}]}
"""

NONE_TEMPLATE = """\
heat_template_version: 2018-08-31
resources:
  nothing:
    type: OS::Heat::None
"""

UPDATE_TEMPLATE = """\
heat_template_version: 2018-08-31
parameters:
  greeting:
    type: string
    default: hello
resources:
  item:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: greeting}
      update_replace_value: first
  keep:
    type: OS::Heat::None
    depends_on: item
outputs:
  item_output:
    value: {get_attr: [item, output]}
"""

FAILING_TEMPLATE = """\
heat_template_version: 2018-08-31
resources:
  fine:
    type: OS::Heat::None
  broken:
    type: OS::Heat::TestResource
    depends_on: fine
    properties:
      fail: true
"""

#: A create that runs for a couple of seconds, then a dependent resource.
BRIEF_WAIT_TEMPLATE = """\
heat_template_version: 2018-08-31
resources:
  slow:
    type: OS::Heat::TestResource
    properties:
      wait_secs: 2
  after:
    type: OS::Heat::None
    depends_on: slow
"""

#: A create that waits a minute, but whose delete (the rollback) is immediate.
LONG_WAIT_TEMPLATE = """\
heat_template_version: 2018-08-31
resources:
  slow:
    type: OS::Heat::TestResource
    properties:
      wait_secs: 60
      action_wait_secs: {delete: 0}
"""

INVALID_TEMPLATE = """\
heat_template_version: 2018-08-31
resources:
  value:
    type: OS::Heat::Value
    properties:
      value: {get_param: missing}
  other:
    type: OS::Heat::None
    depends_on: [nope]
"""


def event_lines(text: str) -> list[tuple[str, str, str]]:
    """Each line as (resource, ACTION_STATUS, reason); every line must have the event form."""
    events = []
    for line in text.splitlines():
        match = EVENT_LINE.fullmatch(line)
        assert match, f"not an event line: {line!r}"
        resource, state, reason = match.groups()
        events.append((resource, state, reason))
    return events


def table_rows(text: str) -> list[list[str]]:
    """The cells of a rich table's header and body rows, stripped."""
    return [
        [cell.strip() for cell in line.split(line[0])[1:-1]]
        for line in text.splitlines()
        if line and line[0] in "┃│"
    ]


def shown_without_identity(shown: dict[str, Any]) -> dict[str, Any]:
    """A ``stack show`` document with its id and times checked and set aside."""
    assert re.fullmatch(UUID, shown["id"])
    assert re.fullmatch(TIMESTAMP, shown["creation_time"])
    assert re.fullmatch(TIMESTAMP, shown["updated_time"])
    rest = {k: v for k, v in shown.items() if k not in ("id", "creation_time", "updated_time")}
    rest["parameters"] = {k: v for k, v in shown["parameters"].items() if k != "OS::stack_id"}
    assert shown["parameters"]["OS::stack_id"] == shown["id"]
    return rest


def finished(name: str, state: str, reason: str) -> str:
    """The ``--wait`` summary line on stderr (the elapsed time varies)."""
    return rf"{name} {state} in \d+\.\ds: {re.escape(reason)}\n"


NESTED_CHILD = """\
heat_template_version: 2018-08-31
parameters:
  size: {type: number, default: 1}
resources:
  disk:
    type: OS::Heat::Value
    properties: {value: {get_param: size}}
outputs:
  size: {value: {get_attr: [disk, value]}}
"""

NESTED_PARENT = """\
heat_template_version: 2018-08-31
resources:
  volume:
    type: My::Volume
    properties: {size: 3}
outputs:
  size: {value: {get_attr: [volume, size]}}
"""

SIGNALLED = """\
heat_template_version: 2018-08-31
resources:
  handle: {type: OS::Heat::WaitConditionHandle}
  wait:
    type: OS::Heat::WaitCondition
    properties: {handle: {get_resource: handle}, timeout: 60}
outputs:
  data: {value: {get_attr: [wait, data]}}
"""


def signal_completes_a_waiting_create(kiln: Kiln) -> None:
    """A wait condition's create waits until ``stack resource signal`` reaches its handle."""
    template = str(kiln.write("signalled.yaml", SIGNALLED))
    kiln.data("stack", "create", "signalled", "-t", template)
    kiln.wait_until(
        "the wait condition starts waiting",
        lambda events: bool(events),
        "stack", "event", "list", "signalled", "--resource", "wait",
    )  # fmt: skip
    bad = kiln.run("stack", "resource", "signal", "signalled", "handle", "--data", "{nope")
    assert bad.returncode == 1
    assert bad.stderr.startswith("Error: Data should be in JSON format: ")
    sent = kiln.run(
        "stack", "resource", "signal", "signalled", "handle", "--data", '{"data": "ready"}'
    )
    assert (sent.returncode, sent.stdout, sent.stderr) == (0, "", "")
    shown = kiln.wait_for_status("signalled", "CREATE_COMPLETE", timeout=20)
    assert json.loads(shown["outputs"][0]["output_value"]) == {"1": "ready"}


def hooks_pause_until_cleared(kiln: Kiln) -> None:
    """A pre-create hook pauses the create; ``hook poll`` shows it, ``hook clear`` lets it go."""
    template = str(kiln.write("plain.yaml", BRIEF_WAIT_TEMPLATE))
    hooks = "resource_registry:\n  resources:\n    after: {hooks: [pre-create]}\n"
    environment = str(kiln.write("hooks.yaml", hooks))
    kiln.data("stack", "create", "held", "-t", template, "-e", environment)
    kiln.wait_until(
        "the create pauses at the hook",
        lambda rows: rows == [{"resource_name": "after", "hook": "pre-create"}],
        "stack", "hook", "poll", "held",
    )  # fmt: skip
    cleared = kiln.run("stack", "hook", "clear", "held", "after")
    assert (cleared.returncode, cleared.stderr) == (0, "")
    kiln.wait_for_status("held", "CREATE_COMPLETE", timeout=20)
    assert kiln.data("stack", "hook", "poll", "held") == []


def wait_until_creating(kiln: Kiln, name: str) -> None:
    """Cancel only once the engine is inside the resource's create, so the test is the same
    every run whatever the machine's speed."""
    kiln.wait_until(
        "the engine starts creating slow",
        lambda events: bool(events),
        "stack", "event", "list", name, "--resource", "slow",
    )  # fmt: skip
