"""Kiln's live event stream: a stack's events as server-sent events, while they happen.

``GET /v1/{project}/stacks/{name}/{id}/events/stream?after=SEQUENCE`` sends
every event after ``after`` (``id:`` is its sequence, so a client that
reconnects with ``Last-Event-ID`` misses nothing), then each new one as it is
recorded, and ends with an ``end`` event carrying the stack's state once its
operation is over (a failed create or update ends only after its rollback,
if one follows). This is what ``kiln stack ... --wait`` and
``kiln stack event list --follow`` use in client mode; it is not part of
Heat's API.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from kiln.api.params import MAX_QUERY_INTEGER, int_param
from kiln.api.shapes import event_entry
from kiln.api.stacks import State, identified, service_for
from kiln.plan.state import Action, StackRecord, Status

router = APIRouter(prefix="/v1/{project_id}", tags=["events"])

#: How often the stream looks for new events (seconds).
POLL_SECONDS = 0.1
#: How long an ended operation is watched for a rollback that follows it.
SETTLE_SECONDS = 1.0


def _may_roll_back(stack: StackRecord) -> bool:
    return (
        stack.status is Status.FAILED
        and stack.action in (Action.CREATE, Action.UPDATE)
        and not stack.disable_rollback
    )


@router.get(
    "/stacks/{stack_name}/{stack_id}/events/stream",
    summary="Follow a stack's events live (server-sent events)",
    response_class=StreamingResponse,
)
async def stream_events(
    request: Request,
    project_id: str,
    stack_name: str,
    stack_id: str,
    state: State,
    after: Annotated[int, Query(ge=0, le=MAX_QUERY_INTEGER)] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    service = service_for(state, project_id)
    stack = await asyncio.to_thread(identified, service, stack_name, stack_id)
    if last_event_id is not None:
        after = max(after, int_param("Last-Event-ID", last_event_id))
    base = str(request.base_url)

    async def events() -> AsyncIterator[str]:
        last = after
        ended_at: float | None = None
        loop = asyncio.get_running_loop()
        while True:
            if await request.is_disconnected():
                return
            # The state first, then the events: the closing event is written with the final
            # state, so events read after an ended state include it.
            current = await asyncio.to_thread(service.stacks.get, stack.id, include_deleted=True)
            found = await asyncio.to_thread(service.event_records, stack, last)
            for event in found:
                last = event.sequence
                entry = json.dumps(event_entry(base, stack, event))
                yield f"id: {event.sequence}\nevent: event\ndata: {entry}\n\n"
            if current is None or current.status is not Status.IN_PROGRESS:
                ended_at = ended_at if ended_at is not None else loop.time()
                settled = loop.time() - ended_at >= SETTLE_SECONDS
                if current is None or not _may_roll_back(current) or settled:
                    state_text = current.state if current is not None else "DELETE_COMPLETE"
                    reason = current.status_reason if current is not None else ""
                    ending = json.dumps({"stack_status": state_text, "stack_status_reason": reason})
                    yield f"event: end\ndata: {ending}\n\n"
                    return
            else:
                ended_at = None
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
