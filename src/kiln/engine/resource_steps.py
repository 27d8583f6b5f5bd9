"""One step of one resource: the state machine between the plan and a plugin.

The order inside a create is what makes a crash harmless: the intent and
the idempotency token are recorded before the cloud is called, the physical
id the moment the plugin returns it, and a retried step that finds an issued
create without an id asks the plugin to find and adopt what was made.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from typing import Any

from kiln.engine.context import OperationContext
from kiln.engine.hooks import wait_for_hook
from kiln.engine.live_attributes import attribute_request
from kiln.engine.scope import recorded_scope
from kiln.errors import EvaluationError
from kiln.persistence.events import EventDraft
from kiln.plan.planner import is_nested_stack
from kiln.plan.state import Action, Intent, ResourceRecord, Status, incarnation_token, new_id
from kiln.plan.steps import Operation, Step
from kiln.providers.context import ProviderContext
from kiln.providers.errors import NotFound, ProviderError, ResourceFailed
from kiln.providers.nested import NESTED_STACK_MARK, STACKS_CLIENT
from kiln.providers.protocol import (
    CheckRequest,
    CreateRequest,
    DeleteRequest,
    FindRequest,
    Progress,
    ReadRequest,
    ResourcePlugin,
    SnapshotRequest,
    UpdateRequest,
)
from kiln.providers.registry import PluginRegistry
from kiln.providers.software_config import SOFTWARE_CONFIG_CLIENT
from kiln.schema.properties import validate_properties
from kiln.schema.types import UpdatePolicy
from kiln.schema.values import contains_unknown
from kiln.template.functions.base import Resolver
from kiln.template.validate import ValidationResult


class StepFailed(Exception):
    """A step failed; the message is the resource's status reason."""


class StepInterrupted(Exception):
    """The operation was cancelled or superseded while this step waited.

    What the step had made is recorded; the operation that superseded this
    one (a rollback, a delete) takes it from there.
    """


#: Named points where ``KILN_CRASH_AT=point[:resource],...`` kills the process, so
#: tests can prove that an engine dying there loses nothing (see tests/recovery).
CRASH_POINTS = ("after_intent", "after_create_call", "after_physical_id", "before_complete")


def crash_point(point: str, resource: str) -> None:
    wanted = os.environ.get("KILN_CRASH_AT", "")
    if not wanted:
        return
    for item in wanted.split(","):
        name, _, target = item.partition(":")
        if name == point and target in ("", resource):
            os.kill(os.getpid(), signal.SIGKILL)


async def run_step(context: OperationContext, step: Step) -> None:
    operation = step.operation
    if operation is Operation.SAME:
        await _same(context, step)
        return
    if not await wait_for_hook(context, step.key.resource, step.operation, "pre"):
        raise StepInterrupted(step.key.resource)
    await _run_change(context, step)
    context.changed.add(step.key.resource)
    if not await wait_for_hook(context, step.key.resource, step.operation, "post"):
        raise StepInterrupted(step.key.resource)


async def _run_change(context: OperationContext, step: Step) -> None:
    operation = step.operation
    if operation is Operation.CREATE:
        await create(context, step.key.resource, replaces=None)
    elif operation is Operation.CREATE_REPLACEMENT:
        await create(context, step.key.resource, replaces=step.record_id)
    elif operation is Operation.UPDATE:
        await update(context, step)
    elif operation in (Operation.DELETE, Operation.DELETE_REPLACED):
        if step.record_id is not None:
            await delete(context, step.record_id, snapshot=step.snapshot)
    elif operation is Operation.RETAIN and step.record_id is not None:
        await retain(context, step.record_id)
    elif operation is Operation.RESTORE and step.record_id is not None:
        await restore(context, step.record_id)


async def _same(context: OperationContext, step: Step) -> None:
    """Nothing to change but the dependencies the new template gives it (delete order).

    Unless a resource it depends on changed in this walk: the plan resolved
    its properties from that resource's old attributes, so they are resolved
    again now and, when they differ, the resource is updated after all.
    """
    name = step.key.resource
    if context.changed & context.dependencies.get(name, set()):
        record = context.store.live(context.stack.id).get(name)
        if record is not None and record.physical_id is not None:
            resolved, _ = desired_properties(context, name)
            if _changed(resolved, record.properties):
                await update(context, step)
                context.changed.add(name)
                return
    record = context.store.live(context.stack.id).get(name)
    depends_on = _depends_on(context, name)
    if record is not None and record.depends_on != depends_on:
        await context.store.save(record.evolve(depends_on=depends_on))


async def refresh_attributes(context: OperationContext) -> None:
    """Fetch attributes the template now reads from resources that do not have them yet.

    Attributes are recorded when a resource is created or updated; a new
    template (or a rollback to an old one) may read others from a resource
    that does not change.
    """
    for name, record in list(context.store.live(context.stack.id).items()):
        needed = context.attributes_needed.get(name, frozenset())
        missing = needed - set(record.attributes)
        if not missing or record.physical_id is None or record.status is not Status.COMPLETE:
            continue
        plugin_class = context.plugins.get(record.type)
        if plugin_class is None:
            continue
        plugin = plugin_class()
        properties, _ = validate_properties(
            plugin.schema, dict(record.properties), context.plugins.schemas()
        )
        try:
            fetched = await _attributes(context, plugin, record, properties)
        except ProviderError:
            continue
        await context.store.save(record.evolve(attributes={**record.attributes, **fetched}))


def state_event(
    record: ResourceRecord, action: Action, status: Status, reason: str = ""
) -> EventDraft:
    return EventDraft(
        resource_name=record.name,
        action=action,
        status=status,
        status_reason=reason,
        physical_id=record.physical_id,
        resource_type=record.type,
    )


def _plugin(context: OperationContext, type_name: str) -> ResourcePlugin:
    plugin_class = context.plugins.get(type_name)
    if plugin_class is None and type_name in context.provider_templates:
        plugin_class = context.plugins.template_plugin(type_name)
    if plugin_class is None:
        raise StepFailed(f"no provider is installed for resource type {type_name}")
    return plugin_class()


def recorded_plugin(context: OperationContext, record: ResourceRecord) -> ResourcePlugin | None:
    """The plugin that made a recorded resource, even when the template no longer names it.

    A resource records its declared type and the implementation it resolved
    to (an alias's plugin). A provider template's resource has its provider
    data say it is a nested stack, and any template plugin can delete one.
    """
    plugin_class = context.plugins.get(record.implementation or record.type)
    if plugin_class is None and record.provider_data.get(NESTED_STACK_MARK):
        plugin_class = context.plugins.template_plugin(record.type)
    return plugin_class() if plugin_class is not None else None


def provider_context(context: OperationContext, record: ResourceRecord) -> ProviderContext:
    clients: dict[str, Any] = dict(context.clients)
    if context.stack_client is not None:
        clients[STACKS_CLIENT] = context.stack_client(record.name)
    if context.software_configs is not None:
        clients[SOFTWARE_CONFIG_CLIENT] = context.software_configs(record.name)
    return ProviderContext.create(
        record.type,
        record.name,
        clock=context.clock,
        clients=clients,
        timeout=context.remaining(),
        cancellation=context.cancellation,
    )


def _resolved_type(context: OperationContext, name: str) -> str:
    """The plugin type the resource maps to through the environment (once per operation)."""
    known = context.resolved_types.get(name)
    if known is not None:
        return known
    declaration = context.result.template.resources[name] if context.result.template else None
    if declaration is None:
        raise StepFailed(f"resource {name!r} is not in the template")
    type_name, is_template = resolved_type(context.result, context.plugins, name)
    if is_template:
        context.provider_templates.add(type_name)
    context.resolved_types[name] = type_name
    return type_name


def resolved_type(result: ValidationResult, plugins: PluginRegistry, name: str) -> tuple[str, bool]:
    """The plugin type a resource's declared type maps to through the environment, and
    whether it is a provider template's location."""
    declaration = result.template.resources[name] if result.template else None
    if declaration is None:
        return "", False
    if result.environment is None:
        return declaration.type, False
    resolved, _ = result.environment.resource_registry.resolve(
        declaration.type, name, is_known=lambda type_name: type_name in plugins
    )
    if resolved.template is not None:
        return resolved.template, True
    return resolved.type_name, False


def desired_properties(
    context: OperationContext, name: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The resource's properties as the template resolves them now, and converted for the plugin."""
    resolved = _resolved_section(context, name, "properties", "Property error")
    if contains_unknown(resolved):
        raise StepFailed(
            f"Property error: resources.{name}.properties refer to values not known yet"
        )
    plugin_class = context.plugins.get(_resolved_type(context, name))
    if plugin_class is None:
        return resolved, resolved
    converted, problems = validate_properties(
        plugin_class.schema, resolved, context.plugins.schemas()
    )
    errors = [d for d in problems if d.severity.value == "error"]
    if errors:
        first = errors[0]
        raise StepFailed(
            f"Property error: resources.{name}.properties.{first.path}: {first.message}"
        )
    return resolved, converted


def desired_update_policy(context: OperationContext, name: str) -> dict[str, Any]:
    """The resource's ``update_policy`` as the template resolves it now."""
    return _resolved_section(context, name, "update_policy", "update_policy error")


def _resolved_section(
    context: OperationContext, name: str, section: str, failure: str
) -> dict[str, Any]:
    """One mapping section of the resource's declaration, resolved against the records."""
    template = context.result.template
    if template is None:
        raise StepFailed("the template did not validate")
    node = getattr(template.resources[name], section)
    if not node:
        return {}
    scope = recorded_scope(context.result, context.store.live(context.stack.id), context.plugins)
    try:
        resolved = Resolver(scope, context.result.limits).resolve(node)
    except EvaluationError as error:
        raise StepFailed(f"{failure}: {error.path}: {error.message}") from error
    return resolved if isinstance(resolved, dict) else {}


def _converted_policy(
    context: OperationContext, plugin: ResourcePlugin, policy: Mapping[str, Any]
) -> dict[str, Any]:
    if not plugin.schema.update_policy:
        return dict(policy)
    converted, _ = validate_properties(
        plugin.schema.update_policy_schema(), dict(policy), context.plugins.schemas()
    )
    return converted


def secret_properties(context: OperationContext, properties: Mapping[str, Any]) -> frozenset[str]:
    """Properties whose values carry a hidden parameter's value: they are stored encrypted."""
    redactor = context.result.redactor
    if not redactor:
        return frozenset()
    return frozenset(name for name, value in properties.items() if redactor.redact(value) != value)


async def _wait(context: OperationContext, seconds: float) -> None:
    await context.cancellation.wait(max(seconds, context.minimum_poll_interval))


async def until_done(
    context: OperationContext,
    plugin: ResourcePlugin,
    record: ResourceRecord,
    progress: Progress,
    check: str,
    properties: Mapping[str, Any],
) -> ResourceRecord:
    """Poll ``check_<action>`` until the plugin reports done, saving ids as they appear."""
    provider = provider_context(context, record)
    while True:
        # ``poll_after`` counts from the plugin's answer, not from the end of the save.
        answered = context.clock.monotonic()
        record = await _absorb(context, record, progress)
        if progress.done:
            return record
        await _wait(context, progress.poll_after - (context.clock.monotonic() - answered))
        if context.cancellation.is_cancelled():
            raise StepInterrupted(record.name)
        request = CheckRequest(
            name=record.name,
            physical_id=record.physical_id,
            properties=properties,
            provider_data=record.provider_data,
        )
        progress = await getattr(plugin, check)(provider, request)


async def _absorb(
    context: OperationContext, record: ResourceRecord, progress: Progress
) -> ResourceRecord:
    """Persist a new physical id or provider data the moment the plugin returns them.

    Provider data that arrives with the end of the work is not saved on its
    own: the step's final write, which follows at once, carries it.
    """
    changed = _with_progress(record, progress)
    new_id = changed.physical_id != record.physical_id
    if new_id or (changed != record and not progress.done):
        await context.store.save(changed)
    return changed


async def _attributes(
    context: OperationContext,
    plugin: ResourcePlugin,
    record: ResourceRecord,
    properties: Mapping[str, Any],
) -> dict[str, Any]:
    names = context.attributes_needed.get(record.name, frozenset())
    names = frozenset(name for name in names if plugin.schema.has_attribute(name))
    if not names:
        return {}
    request = attribute_request(record, properties, names)
    return dict(await plugin.attributes(provider_context(context, record), request))


async def create(context: OperationContext, name: str, replaces: str | None) -> None:
    resolved, converted = desired_properties(context, name)
    type_name = context.result.template.resources[name].type if context.result.template else ""
    plugin = _plugin(context, _resolved_type(context, name))
    policy = desired_update_policy(context, name)
    record, old = _incarnation(context, name, type_name, replaces)
    resuming = record.intent is Intent.CREATE_ISSUED and record.physical_id is None
    # An adopted resource arrives with the physical id it takes over: it is confirmed, not made.
    action = Action.ADOPT if record.action is Action.ADOPT else Action.CREATE
    # The intent goes in with the first write: the cloud call is the next thing that happens.
    record = record.evolve(
        action=action,
        status=Status.IN_PROGRESS,
        status_reason="state changed",
        properties=resolved,
        update_policy=policy,
        implementation=_resolved_type(context, name),
        intent=Intent.CREATE_ISSUED if record.physical_id is None else record.intent,
        # Recorded now, so that a rollback deletes even a failed resource in order.
        depends_on=_depends_on(context, name),
    )
    started = state_event(record, action, Status.IN_PROGRESS, "state changed")
    hidden = secret_properties(context, resolved)
    if record.created_at is None:
        await context.store.add(record, started, hidden)
        if old is not None:
            await context.store.save(old.evolve(replaced_by=record.id))
    else:
        await context.store.save(record, started, hidden)
    crash_point("after_intent", name)
    provider = provider_context(context, record)
    physical_name = _physical_name(context, record)
    needs_attributes = bool(context.attributes_needed.get(name))
    try:
        if resuming:
            request = FindRequest(
                name=name,
                idempotency_token=record.idempotency_token,
                physical_name=physical_name,
                properties=converted,
            )
            found = await plugin.find(provider, request)
            if found is not None:
                record = await _absorb(context, record, Progress(done=False, physical_id=found))
        if record.physical_id is None:
            progress = await plugin.create(
                provider,
                CreateRequest(
                    name=name,
                    properties=converted,
                    idempotency_token=record.idempotency_token,
                    physical_name=physical_name,
                    update_policy=_converted_policy(context, plugin, policy),
                    attributes_needed=context.attributes_needed.get(name, frozenset()),
                ),
            )
            crash_point("after_create_call", name)
            if progress.done and not needs_attributes:
                # Done at once: the id and the completion are saved together, at once.
                await _complete(context, _with_progress(record, progress), {})
                return
        else:
            if action is Action.ADOPT:
                await _confirm_exists(plugin, provider, record, converted)
            progress = Progress(done=False, poll_after=0.0)
        record = await until_done(context, plugin, record, progress, "check_create", converted)
        crash_point("after_physical_id", name)
        attributes = await _attributes(context, plugin, record, converted)
    except ProviderError as error:
        await fail_step(context, record, action, error)
    crash_point("before_complete", name)
    await _complete(context, record, attributes, action)


def _with_progress(record: ResourceRecord, progress: Progress) -> ResourceRecord:
    return record.evolve(
        physical_id=progress.physical_id or record.physical_id,
        provider_data=record.provider_data
        if progress.provider_data is None
        else progress.provider_data,
    )


async def _confirm_exists(
    plugin: ResourcePlugin,
    provider: ProviderContext,
    record: ResourceRecord,
    properties: Mapping[str, Any],
) -> None:
    """Refuse to adopt an id the backend does not know: it would be a record of nothing."""
    request = ReadRequest(
        name=record.name,
        physical_id=record.physical_id,
        properties=properties,
        provider_data=record.provider_data,
    )
    if await plugin.read(provider, request) is None:
        raise NotFound(f"there is no {record.type} {record.physical_id!r} to adopt")


async def _complete(
    context: OperationContext,
    record: ResourceRecord,
    attributes: Mapping[str, Any],
    action: Action = Action.CREATE,
) -> None:
    record = record.evolve(
        status=Status.COMPLETE,
        status_reason="state changed",
        intent=Intent.NONE,
        attributes=attributes,
        depends_on=_depends_on(context, record.name),
    )
    await context.store.save(record, state_event(record, action, Status.COMPLETE, "state changed"))


def _depends_on(context: OperationContext, name: str) -> frozenset[str]:
    return frozenset(context.dependencies.get(name, ()))


def _incarnation(
    context: OperationContext, name: str, type_name: str, replaces: str | None
) -> tuple[ResourceRecord, ResourceRecord | None]:
    """The record this create works on (an interrupted attempt's, or a new, unsaved
    one: ``created_at`` is None), and the incarnation it replaces."""
    records = context.store.incarnations(context.stack.id, name)
    old = next((r for r in records if r.id == replaces), None) if replaces else None
    generation = (old.generation + 1) if old is not None else 0
    if old is None:
        generation = max((r.generation + 1 for r in records), default=0)
    for record in records:
        # An earlier attempt at this incarnation (interrupted, or failed before the
        # cloud gave an id): keep its token so what it made can be found and adopted.
        if (
            record.name == name
            and record.replaced_by is None
            and record.physical_id is None
            and (old is None or record.replaces == old.id)
            and (old is not None or record.replaces is None)
        ):
            return record, old
        if (
            record.name == name
            and record.replaced_by is None
            and record.status is Status.IN_PROGRESS
            and record.action in (Action.CREATE, Action.ADOPT)
            and (old is None or record.replaces == old.id)
        ):
            return record, old
    record_id = new_id()
    token = incarnation_token(context.stack.id, name, record_id)
    record = ResourceRecord(
        id=record_id,
        stack_id=context.stack.id,
        name=name,
        type=type_name,
        generation=generation,
        replaces=old.id if old is not None else None,
        idempotency_token=token,
    )
    return record, old


async def fail_step(
    context: OperationContext, record: ResourceRecord, action: Action, error: Exception
) -> None:
    """Record the failure as Heat words it (``Kind: resources.name: message``) and stop the step."""
    kind = error.kind if isinstance(error, ResourceFailed) else type(error).__name__
    inner = error.path if isinstance(error, ResourceFailed) else ()
    where = ".".join(("resources", record.name, *inner))
    reason = context.result.redactor.text(f"{kind}: {where}: {error}")
    failed = context.store.get(record.id).evolve(status=Status.FAILED, status_reason=reason)
    await context.store.save(failed, state_event(failed, action, Status.FAILED, reason))
    raise StepFailed(reason)


async def update(context: OperationContext, step: Step) -> None:
    name = step.key.resource
    current = context.store.live(context.stack.id).get(name)
    if current is None:
        await create(context, name, replaces=None)
        return
    resolved, converted = desired_properties(context, name)
    changed = _changed(resolved, current.properties)
    policy = desired_update_policy(context, name)
    plugin = _plugin(context, _resolved_type(context, name))
    type_name = context.result.template.resources[name].type if context.result.template else ""
    if (
        not changed
        and policy == dict(current.update_policy)
        and current.status is not Status.FAILED
        and current.type == type_name
        # A nested stack is always updated: its own resources decide what changes.
        and not is_nested_stack(plugin.schema)
    ):
        depends_on = _depends_on(context, name)
        if current.status is Status.IN_PROGRESS and current.intent is Intent.UPDATE_ISSUED:
            await _resume_update(context, plugin, current, resolved, converted)
            return
        if current.status is Status.IN_PROGRESS:
            finished = current.evolve(
                status=Status.COMPLETE, intent=Intent.NONE, depends_on=depends_on
            )
            await context.store.save(
                finished, state_event(finished, current.action, Status.COMPLETE, "state changed")
            )
        elif current.depends_on != depends_on:
            # Nothing to change but the new template's dependencies (delete order).
            await context.store.save(current.evolve(depends_on=depends_on))
        return
    old_converted, _ = validate_properties(
        plugin.schema, dict(current.properties), context.plugins.schemas()
    )
    if changed and _must_replace(plugin, old_converted, converted, changed):
        if "replace" in restricted_actions(context, name):
            raise StepFailed(await record_restricted(context, current, "replace"))
        context.diverged = True
        await create(context, name, replaces=current.id)
        return
    record = current.evolve(
        type=type_name,
        implementation=_resolved_type(context, name),
        action=Action.UPDATE,
        status=Status.IN_PROGRESS,
        status_reason="state changed",
        intent=Intent.UPDATE_ISSUED,
        depends_on=_depends_on(context, name),
    )
    await context.store.save(
        record, state_event(record, Action.UPDATE, Status.IN_PROGRESS, "state changed")
    )
    try:
        progress = await plugin.update(
            provider_context(context, record),
            UpdateRequest(
                name=name,
                physical_id=record.physical_id,
                old_properties=old_converted,
                new_properties=converted,
                changed=changed,
                provider_data=record.provider_data,
                update_policy=_converted_policy(context, plugin, policy),
                old_update_policy=_converted_policy(context, plugin, current.update_policy),
                attributes_needed=context.attributes_needed.get(name, frozenset()),
            ),
        )
        record = await until_done(context, plugin, record, progress, "check_update", converted)
        attributes = await _attributes(context, plugin, record, converted)
    except ProviderError as error:
        await fail_step(context, record, Action.UPDATE, error)
    except StepInterrupted:
        # The plugin may have applied part of the change already: what comes next
        # starts from the new properties (a rollback updates back from them), and the
        # same definition again picks the update up where it stands.
        interrupted = context.store.get(record.id).evolve(properties=resolved, update_policy=policy)
        await context.store.save(interrupted, None, secret_properties(context, resolved))
        raise
    await _updated(context, record, resolved, attributes)


async def _resume_update(
    context: OperationContext,
    plugin: ResourcePlugin,
    record: ResourceRecord,
    resolved: Mapping[str, Any],
    converted: Mapping[str, Any],
) -> None:
    """Poll an interrupted update to its end instead of asking for it again."""
    try:
        record = await until_done(
            context, plugin, record, Progress(done=False), "check_update", converted
        )
        attributes = await _attributes(context, plugin, record, converted)
    except ProviderError as error:
        await fail_step(context, record, Action.UPDATE, error)
    await _updated(context, record, resolved, attributes)


async def _updated(
    context: OperationContext,
    record: ResourceRecord,
    resolved: Mapping[str, Any],
    attributes: Mapping[str, Any],
) -> None:
    """Record the update done: the new properties and update policy, UPDATE_COMPLETE."""
    name = record.name
    record = record.evolve(
        status=Status.COMPLETE,
        intent=Intent.NONE,
        properties=resolved,
        update_policy=desired_update_policy(context, name),
        attributes=attributes,
        depends_on=_depends_on(context, name),
    )
    await context.store.save(
        record,
        state_event(record, Action.UPDATE, Status.COMPLETE, "state changed"),
        secret_properties(context, resolved),
    )


def restricted_actions(context: OperationContext, name: str) -> frozenset[str]:
    """What the environment's ``restricted_actions`` forbid for ``name`` ("update", "replace")."""
    environment = context.result.environment
    if environment is None:
        return frozenset()
    return environment.resource_registry.restricted_actions_for(name)


def replacement_needed(context: OperationContext, name: str) -> bool:
    """Whether bringing ``name`` to the template's properties replaces it: as its schema
    says, or as the plugin decides from the change (which only apply time can ask)."""
    current = context.store.live(context.stack.id).get(name)
    if current is None:
        return False
    try:
        resolved, converted = desired_properties(context, name)
        plugin = _plugin(context, _resolved_type(context, name))
    except StepFailed:
        return False
    changed = _changed(resolved, current.properties)
    old_converted, _ = validate_properties(
        plugin.schema, dict(current.properties), context.plugins.schemas()
    )
    return bool(changed) and _must_replace(plugin, old_converted, converted, changed)


async def record_restricted(context: OperationContext, record: ResourceRecord, action: str) -> str:
    """Leave the resource as it is and, as Heat does, say in an event of the resource
    which restricted action it needed; the step's failure."""
    reason = f"{action} is restricted for resource."
    event = state_event(record, context.stack.action, Status.FAILED, reason)
    await context.store.save(record, event)
    return f"ResourceActionRestricted: resources.{record.name}: {reason}"


def _changed(new: Mapping[str, Any], old: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(k for k in set(new) | set(old) if new.get(k) != old.get(k))


def _must_replace(
    plugin: ResourcePlugin, old: Mapping[str, Any], new: Mapping[str, Any], changed: frozenset[str]
) -> bool:
    schema = plugin.schema
    if plugin.needs_replacement(old, new, changed):
        return True
    if schema.accepts_any_properties:
        return False
    return any(
        name not in schema.properties
        or schema.properties[name].update_policy is not UpdatePolicy.IN_PLACE
        for name in changed
    )


async def delete(context: OperationContext, record_id: str, *, snapshot: bool = False) -> None:
    """Delete the resource (after a snapshot, with ``snapshot``) and forget its record.

    A snapshot is taken before the delete intent is written, so a retried
    step whose record says ``DELETE_ISSUED`` knows the snapshot exists.
    """
    record = context.store.get(record_id)
    plugin = recorded_plugin(context, record)
    adopting = record.physical_id is None and record.intent is Intent.CREATE_ISSUED
    snapshotting = (
        snapshot
        and plugin is not None
        and record.physical_id is not None
        and record.intent is not Intent.DELETE_ISSUED
    )
    if record.physical_id is None:
        intent = record.intent
    else:
        intent = Intent.SNAPSHOT_ISSUED if snapshotting else Intent.DELETE_ISSUED
    # The first intent goes in with the first write when the call follows at once.
    record = record.evolve(
        action=Action.DELETE,
        status=Status.IN_PROGRESS,
        status_reason="state changed",
        intent=intent,
    )
    await context.store.save(
        record, state_event(record, Action.DELETE, Status.IN_PROGRESS, "state changed")
    )
    reason = "state changed"
    if plugin is not None:
        properties, _ = validate_properties(
            plugin.schema, dict(record.properties), context.plugins.schemas()
        )
        provider = provider_context(context, record)
        try:
            if adopting:
                found = await plugin.find(
                    provider,
                    FindRequest(
                        name=record.name,
                        idempotency_token=record.idempotency_token,
                        physical_name=_physical_name(context, record),
                        properties=properties,
                    ),
                )
                record = await _absorb(context, record, Progress(done=False, physical_id=found))
            if snapshotting:
                snapshot_id = await take_snapshot(context, plugin, record, properties)
                reason = f"snapshot {snapshot_id} kept"
            if record.physical_id is not None:
                if record.intent is not Intent.DELETE_ISSUED:
                    record = record.evolve(intent=Intent.DELETE_ISSUED, status_reason=reason)
                    await context.store.save(record)
                progress = await plugin.delete(
                    provider,
                    DeleteRequest(
                        name=record.name,
                        physical_id=record.physical_id,
                        properties=properties,
                        provider_data=record.provider_data,
                    ),
                )
                await until_done(context, plugin, record, progress, "check_delete", properties)
        except NotFound:
            pass
        except ProviderError as error:
            await fail_step(context, record, Action.DELETE, error)
    await context.store.remove(
        record.id, state_event(record, Action.DELETE, Status.COMPLETE, reason)
    )


async def take_snapshot(
    context: OperationContext,
    plugin: ResourcePlugin,
    record: ResourceRecord,
    properties: Mapping[str, Any],
    token: str | None = None,
) -> str | None:
    """Take the snapshot and wait for it; the snapshot's id.

    ``token`` tells snapshots of one incarnation apart (one per stack
    snapshot); the default is the incarnation's own, for its last snapshot.
    """
    if record.physical_id is None:
        return None
    provider = provider_context(context, record)
    progress = await plugin.snapshot(
        provider,
        SnapshotRequest(
            name=record.name,
            physical_id=record.physical_id,
            properties=properties,
            idempotency_token=token or record.idempotency_token,
            provider_data=record.provider_data,
        ),
    )
    snapshot_id = progress.physical_id
    # The snapshot's own poll data is kept in memory only: a retried step
    # finds an interrupted snapshot again through the idempotency token.
    data = record.provider_data
    while not progress.done:
        data = data if progress.provider_data is None else progress.provider_data
        await _wait(context, progress.poll_after)
        if context.cancellation.is_cancelled():
            raise StepInterrupted(record.name)
        progress = await plugin.check_snapshot(
            provider,
            CheckRequest(
                name=record.name,
                physical_id=record.physical_id,
                properties=properties,
                provider_data=data,
            ),
        )
        snapshot_id = progress.physical_id or snapshot_id
    return snapshot_id


def _physical_name(context: OperationContext, record: ResourceRecord) -> str:
    """The deterministic name Heat would give the resource."""
    return f"{context.stack.name}-{record.name}-{record.idempotency_token[:12]}"


async def retain(context: OperationContext, record_id: str) -> None:
    record = context.store.get(record_id)
    await context.store.remove(
        record.id, state_event(record, Action.DELETE, Status.COMPLETE, "retained, not deleted")
    )


async def restore(context: OperationContext, record_id: str) -> None:
    """Make a replaced incarnation live again; its successor becomes the one to delete."""
    record = context.store.get(record_id)
    successor_id = record.replaced_by
    predecessor_id = record.replaces
    restored = record.evolve(replaced_by=None, replaces=successor_id)
    await context.store.save(
        restored, state_event(restored, Action.ROLLBACK, Status.COMPLETE, "restored")
    )
    if successor_id is not None:
        successor = context.store.get(successor_id)
        await context.store.save(successor.evolve(replaced_by=record.id, replaces=predecessor_id))
        if predecessor_id is not None:
            predecessor = context.store.get(predecessor_id)
            await context.store.save(predecessor.evolve(replaced_by=successor_id))
