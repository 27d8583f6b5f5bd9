"""Wait conditions: a create that waits for signals to a handle."""

from __future__ import annotations

import asyncio
import json
import textwrap

import pytest
from lifecycle_support import Harness

from kiln.errors import KilnError
from kiln.plan.state import StackRecord, Status
from kiln.service.stacks import StackDefinition

WAITING = """\
heat_template_version: 2018-08-31
parameters:
  timeout: {type: number, default: 30}
resources:
  handle:
    type: OS::Heat::WaitConditionHandle
  wait:
    type: OS::Heat::WaitCondition
    properties:
      handle: {get_resource: handle}
      timeout: {get_param: timeout}
      count: 2
  after:
    type: OS::Heat::Value
    depends_on: wait
    properties: {value: done}
outputs:
  data: {value: {get_attr: [wait, data]}}
  curl: {value: {get_attr: [handle, curl_cli]}}
"""


async def _until_waiting(harness: Harness, stack: StackRecord) -> None:
    while not any(
        r.name == "wait" and r.status is Status.IN_PROGRESS for r in harness.records(stack)
    ):
        await asyncio.sleep(0.02)


def _run_with_signals(harness: Harness, stack: StackRecord, *signals: object) -> StackRecord:
    async def scenario() -> None:
        running = asyncio.ensure_future(harness.engine().run(stack.id))
        await _until_waiting(harness, stack)
        for details in signals:
            await harness.service.signal(stack.id, "handle", details)
        await asyncio.wait_for(running, timeout=20)

    asyncio.run(scenario())
    final = harness.stack(stack.id)
    harness.assert_consistent(final)
    return final


def test_a_wait_condition_completes_once_enough_signals_arrive(harness: Harness) -> None:
    stack = harness.service.create("waits", StackDefinition(WAITING))
    stack = _run_with_signals(harness, stack, {"data": "first", "id": "a"}, None)
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    outputs = {o.key: o.value for o in harness.service.outputs(stack)}
    assert json.loads(str(outputs["data"])) == {"a": "first", "2": None}
    curl = str(outputs["curl"])
    assert curl.startswith("curl -i -X POST -H 'X-Auth-Token: ")
    assert curl.endswith(f"/stacks/waits/{stack.id}/resources/handle/signal")
    signals = [e for e in harness.service.event_records(stack) if e.action.value == "SIGNAL"]
    assert [e.status_reason for e in signals] == [
        "Signal: data:first, id:a, reason:Signal 1 received, status:SUCCESS",
        "Signal: data:None, id:2, reason:Signal 2 received, status:SUCCESS",
    ]
    events = harness.events(stack)
    assert events.index(("wait", "CREATE_COMPLETE")) < events.index(("after", "CREATE_IN_PROGRESS"))


def test_a_failure_signal_fails_the_wait_and_rolls_back(harness: Harness) -> None:
    stack = harness.service.create("fails", StackDefinition(WAITING))
    stack = _run_with_signals(harness, stack, {"status": "FAILURE", "reason": "disk full"})
    assert stack.state == "ROLLBACK_COMPLETE"
    reasons = [e.status_reason for e in harness.service.event_records(stack)]
    assert "WaitConditionFailure: resources.wait: disk full" in reasons
    assert harness.records(stack) == []


def test_a_wait_condition_times_out_when_signals_do_not_come(harness: Harness) -> None:
    stack = harness.run(
        harness.service.create("slow", StackDefinition(WAITING, parameters={"timeout": 1}))
    )
    assert stack.state == "ROLLBACK_COMPLETE"
    reasons = [e.status_reason for e in harness.service.event_records(stack)]
    assert "WaitConditionTimeout: resources.wait: 0 of 2 received" in reasons


def test_signals_in_the_wrong_shape_are_refused_and_change_nothing(harness: Harness) -> None:
    template = textwrap.dedent(
        """\
        heat_template_version: 2018-08-31
        resources:
          handle: {type: OS::Heat::WaitConditionHandle}
          plain: {type: OS::Heat::None}
        """
    )
    stack = harness.create("shapes", template)
    before = harness.events(stack)
    with pytest.raises(KilnError, match="status must be SUCCESS or FAILURE"):
        asyncio.run(harness.service.signal(stack.id, "handle", {"status": "MAYBE"}))
    with pytest.raises(KilnError, match="could not be found"):
        asyncio.run(harness.service.signal(stack.id, "nothing", {}))
    with pytest.raises(KilnError, match="signal is not supported"):
        asyncio.run(harness.service.signal(stack.id, "plain", {}))
    assert harness.events(stack) == before


CLOUDFORMATION = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Handle:
    Type: AWS::CloudFormation::WaitConditionHandle
  Wait:
    Type: AWS::CloudFormation::WaitCondition
    Properties:
      Handle: !Ref Handle
      Timeout: 30
Outputs:
  Data:
    Value: !GetAtt Wait.Data
  Url:
    Value: !Ref Handle
"""


def test_cloudformation_wait_condition_takes_cloudformation_signals(harness: Harness) -> None:
    stack = harness.service.create("cfn", StackDefinition(CLOUDFORMATION))

    async def scenario() -> None:
        running = asyncio.ensure_future(harness.engine().run(stack.id))
        while not any(
            r.name == "Wait" and r.status is Status.IN_PROGRESS for r in harness.records(stack)
        ):
            await asyncio.sleep(0.02)
        with pytest.raises(KilnError, match="Metadata format invalid"):
            await harness.service.signal(stack.id, "Handle", {"Status": "SUCCESS"})
        signal = {"Status": "SUCCESS", "Reason": "booted", "UniqueId": "web-1", "Data": "10.0.0.5"}
        await harness.service.signal(stack.id, "Handle", signal)
        await asyncio.wait_for(running, timeout=20)

    asyncio.run(scenario())
    final = harness.stack(stack.id)
    assert final.state == "CREATE_COMPLETE", final.status_reason
    outputs = {o.key: o.value for o in harness.service.outputs(final)}
    assert json.loads(str(outputs["Data"])) == {"web-1": "10.0.0.5"}
    url = str(outputs["Url"])
    assert f"/stacks/cfn/{stack.id}/resources/Handle/signal?token=" in url
