"""Stack use cases shared by the CLI and the API: validate, preview, start, cancel, read.

Starting an operation only records it (a compare-and-swap on the stack's
traversal); an :class:`~kiln.engine.operation.Engine` then runs it, in this
process or another. That split is what lets a dead process's work be resumed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kiln.config import TemplateLimits
from kiln.engine.hooks import HookSignals, paused_hook
from kiln.engine.nested import NestedStackClient
from kiln.engine.observe import ResourceDrift, observe
from kiln.engine.operation import converging_to
from kiln.engine.outputs import Output, stack_outputs
from kiln.engine.resource_steps import state_event
from kiln.engine.scope import live_records, recorded_scope
from kiln.engine.software_config import software_config_clients
from kiln.engine.start import start_operation
from kiln.engine.validation import validate_stack
from kiln.errors import ConflictError, EvaluationError, KilnError, NotFoundError, TemplateError
from kiln.persistence.database import Database
from kiln.persistence.errors import StackExists
from kiln.persistence.events import EventDraft, EventRepository
from kiln.persistence.listing import StackFilters
from kiln.persistence.resources import ResourceRepository
from kiln.persistence.secrets import SecretBox
from kiln.persistence.signals import SignalRepository
from kiln.persistence.stacks import StackRepository
from kiln.plan.desired import desired_resources
from kiln.plan.planner import plan_changes
from kiln.plan.state import Action, EventRecord, ResourceRecord, StackRecord, Status, new_id
from kiln.plan.steps import Plan
from kiln.providers.context import ProviderContext
from kiln.providers.errors import ProviderError
from kiln.providers.nested import STACKS_CLIENT
from kiln.providers.protocol import AttributeRequest
from kiln.providers.registry import PluginRegistry
from kiln.providers.software_config import SOFTWARE_CONFIG_CLIENT
from kiln.schema.properties import validate_properties
from kiln.schema.values import Unknown
from kiln.service.nested_validation import NestedChecker
from kiln.service.signals import SignalDelivery
from kiln.service.stack_limits import (
    check_resource_total,
    check_stack_count,
    check_stack_name,
)
from kiln.template.functions.base import Resolver
from kiln.template.parameters import hidden_parameter_names, mask_hidden_values
from kiln.template.resource_registry import HOOK_TYPES
from kiln.template.validate import SourceText, ValidationResult, validate_template


class StackNotFoundError(NotFoundError):
    def __init__(self, name_or_id: str) -> None:
        super().__init__(f"The Stack ({name_or_id}) could not be found.")


class ResourceNotFoundError(NotFoundError):
    def __init__(self, resource: str) -> None:
        super().__init__(f"The Resource ({resource}) could not be found.")


class OperationInProgress(ConflictError):
    """Heat's ``ActionInProgress``: one operation per stack at a time."""

    def __init__(self, stack: StackRecord) -> None:
        super().__init__(f"Stack {stack.name} already has an action ({stack.action}) in progress.")


@dataclass(frozen=True)
class StackDefinition:
    """A template as a client sends it: texts, files map, environments and parameters."""

    template: str
    files: Mapping[str, str] = field(default_factory=dict)
    environments: Sequence[tuple[str, str]] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)


#: (new operation, operation in progress) pairs where, as in Heat's convergence, the
#: new one preempts the one in progress instead of being refused.
_PREEMPTIBLE = frozenset(
    {
        (Action.UPDATE, Action.CREATE),
        (Action.UPDATE, Action.UPDATE),
        (Action.UPDATE, Action.ROLLBACK),
    }
)


def _standing_on(stack: StackRecord) -> StackRecord:
    """The definition the stack stands on, which an update starts from and keeps as its
    previous one: during a rollback, the one the rollback returns to (as in Heat, whose
    rollback switches to it), nothing for a rolled-back create."""
    if stack.action is not Action.ROLLBACK:
        return stack
    if not stack.previous_template:
        return replace(stack, template="", files={}, environments=(), parameters={})
    return converging_to(stack)


class ImmutableParameterModified(KilnError):
    """Heat's refusal of an update that changes a parameter declared ``immutable``."""

    heat_type = "ImmutableParameterModified"

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(
            "The following parameters are immutable and may not be updated: " + ", ".join(names)
        )


def _refuse_immutable_changes(current: ValidationResult, updated: ValidationResult) -> None:
    """Refuse the update before it starts, as Heat does, when an immutable parameter
    (immutable in the new template) that both templates declare gets another value."""
    changed = [
        name
        for name, declaration in updated.declarations.items()
        if declaration.immutable
        and name in current.declarations
        and name in current.parameters
        and name in updated.parameters
        and not isinstance(current.parameters[name], Unknown)
        and not isinstance(updated.parameters[name], Unknown)
        and current.parameters[name] != updated.parameters[name]
    ]
    if changed:
        raise ImmutableParameterModified(sorted(changed))


def _updated_tags(stack: StackRecord, tags: Sequence[str] | None, *, kept: bool) -> tuple[str, ...]:
    """The tags an update leaves: those given, else the stack's own when ``kept``, else none."""
    if tags is not None:
        return tuple(tags)
    return stack.tags if kept else ()


class StackService:
    def __init__(
        self,
        database: Database,
        plugins: PluginRegistry,
        secrets: SecretBox,
        project_id: str = "default",
        limits: TemplateLimits | None = None,
        launch: Callable[[str], None] = lambda stack_id: None,
        clients: Mapping[str, Any] | None = None,
    ) -> None:
        self.limits = limits
        #: The cloud clients the engine gives plugins (the Local cloud, ...): reading a
        #: resource live (drift, resource show) needs the same ones.
        self.clients: Mapping[str, Any] = dict(clients or {})
        #: Runs an operation a signal started on a nested stack (a group resizing);
        #: the CLI starts a detached engine, tests run one in-process.
        self.launch = launch
        self.database = database
        self.plugins = plugins
        self.project_id = project_id
        self.stacks = StackRepository(database, secrets)
        self.resources = ResourceRepository(database, secrets)
        self.events = EventRepository(database)

    # -- reading ---------------------------------------------------------------

    def get(self, name_or_id: str) -> StackRecord:
        stack = self.stacks.find(self.project_id, name_or_id)
        if stack is None:
            raise StackNotFoundError(name_or_id)
        return stack

    def list_stacks(
        self, filters: StackFilters | None = None, *, every_project: bool = False, **options: Any
    ) -> list[StackRecord]:
        """The project's stacks, or every project's (for an admin's ``global_tenant``)."""
        project_id = None if every_project else self.project_id
        return self.stacks.list(project_id, filters or StackFilters(), **options)

    def resource_records(self, stack: StackRecord) -> list[ResourceRecord]:
        return sorted(
            live_records(self.resources.by_stack(stack.id)).values(), key=lambda r: r.name
        )

    def family(self, stack: StackRecord, nested_depth: int = 0) -> list[StackRecord]:
        """The stack and its nested stacks down to ``nested_depth`` levels, parents first."""
        found = [stack]
        level = [stack]
        for _ in range(max(nested_depth, 0)):
            level = [child for parent in level for child in self.stacks.children(parent.id)]
            found += level
        return found

    def event_records(
        self, stack: StackRecord, after: int = 0, resource: str | None = None
    ) -> list[EventRecord]:
        return self.events.list(stack.id, after_sequence=after, resource_name=resource)

    def outputs(self, stack: StackRecord) -> list[Output]:
        """Each output resolved from the records; failures become ``output_error`` as in Heat."""
        return stack_outputs(
            stack, lambda: self.resources.by_stack(stack.id), self.plugins, self.limits
        )

    def shown_parameters(self, stack: StackRecord) -> dict[str, Any]:
        """The parameters as Heat's ``stack show`` gives them.

        Every declared parameter with its value, hidden ones as ``******``,
        then ``OS::stack_id``, ``OS::stack_name`` and ``OS::project_id``;
        values that are not known yet are left out.
        """
        result = validate_stack(stack, self.plugins, self.limits)
        values = {name: result.parameters.get(name) for name in result.declarations}
        shown = mask_hidden_values(values, hidden_parameter_names(result.declarations))
        shown.update(
            {
                "OS::stack_id": stack.id,
                "OS::stack_name": stack.name,
                "OS::project_id": stack.project_id,
            }
        )
        return {name: value for name, value in shown.items() if not isinstance(value, Unknown)}

    # -- starting operations ----------------------------------------------------

    def check_template(self, definition: StackDefinition) -> ValidationResult:
        """Heat's template validate: every problem; parameter values are not required."""
        return validate_template(
            SourceText("template", definition.template),
            registry=self.plugins.schemas(),
            environments=[SourceText(name, text) for name, text in definition.environments],
            parameters=definition.parameters,
            files=definition.files,
            limits=self.limits,
        )

    def validate(
        self, stack_name: str, definition: StackDefinition, stack_id: str = ""
    ) -> ValidationResult:
        return validate_stack(
            self._proposed(stack_name, definition, stack_id), self.plugins, self.limits
        )

    def _proposed(self, stack_name: str, definition: StackDefinition, stack_id: str) -> StackRecord:
        return StackRecord(
            id=stack_id or new_id(),
            name=stack_name,
            project_id=self.project_id,
            template=definition.template,
            files=dict(definition.files),
            environments=tuple(definition.environments),
            parameters=dict(definition.parameters),
        )

    def check_nested(self, stack: StackRecord, result: ValidationResult) -> None:
        """Refuse a definition whose nested stacks would not validate (a group's member
        definition, a chain's members), as Heat does before anything changes."""
        checker = NestedChecker(self.stacks, self.resources, self.plugins, self.limits)
        problems = checker.problems(stack, result)
        if problems:
            raise TemplateError(problems)

    def preview(
        self, stack_name: str, definition: StackDefinition, stack: StackRecord | None = None
    ) -> Plan:
        """The plan apply would start with (the same planner, on the same records)."""
        if stack is None:
            self.check_new_stack(stack_name)
        result = self._valid(stack_name, definition, stack.id if stack else "")
        check_resource_total(self, definition, result)
        records = self.resources.by_stack(stack.id) if stack else []
        desired, problems = desired_resources(
            result, self.plugins.schemas(), recorded_scope(result, records, self.plugins)
        )
        plan, more = plan_changes(desired, records)
        if problems or more:
            raise TemplateError([*problems, *more])
        return plan

    def check_new_stack(self, name: str) -> None:
        """Heat's checks before a stack is made (create, adopt, preview), in Heat's order:
        the name is free, the project has room for one more stack, the name is valid.
        As in Heat, they come before the template is looked at."""
        existing = self.stacks.find(self.project_id, name) if isinstance(name, str) else None
        if existing is not None and existing.name == name:
            raise StackExists(self.project_id, name)
        check_stack_count(self.stacks, self.project_id, self.limits or TemplateLimits())
        check_stack_name(name)

    def create(
        self,
        name: str,
        definition: StackDefinition,
        *,
        timeout_mins: int | None = None,
        disable_rollback: bool = False,
        tags: Sequence[str] = (),
    ) -> StackRecord:
        stack_id = new_id()
        self.check_new_stack(name)
        result = self._valid(name, definition, stack_id)
        check_resource_total(self, definition, result)
        hidden = hidden_parameter_names(result.declarations)
        record = StackRecord(
            id=stack_id,
            name=name,
            project_id=self.project_id,
            action=Action.INIT,
            status=Status.COMPLETE,
            template=definition.template,
            files=dict(definition.files),
            environments=tuple(definition.environments),
            parameters=dict(definition.parameters),
            tags=tuple(tags),
            timeout_mins=timeout_mins,
            disable_rollback=disable_rollback,
        )
        self.stacks.create(record, hidden)
        self._begin(record, Action.CREATE, expected=None)
        return self.get(stack_id)

    def update(
        self,
        name_or_id: str,
        definition: StackDefinition,
        *,
        existing: bool = False,
        clear_parameters: Sequence[str] = (),
        timeout_mins: int | None = None,
        disable_rollback: bool | None = None,
        converge: bool = False,
        action: Action = Action.UPDATE,
        tags: Sequence[str] | None = None,
    ) -> StackRecord:
        """Heat's PUT (replace everything) or, with ``existing``, PATCH (keep what is not given).

        ``converge`` reads each resource's real state first, so that drifted
        resources are updated (or re-created) back to the template. ``action``
        is RESTORE for a return to a snapshot's definition. ``tags`` replace the
        stack's; without them, as in Heat, a PUT clears the tags while a PATCH
        or a restore keeps them.
        """
        stack = self.get(name_or_id)
        # As in Heat's convergence, an update preempts a create or update in progress:
        # the engine running it stops its steps and converges to the new definition.
        preempting = stack.status is Status.IN_PROGRESS
        if preempting and (action, stack.action) not in _PREEMPTIBLE:
            raise OperationInProgress(stack)
        base = _standing_on(stack)
        definition = self.merged_definition(
            base if base.template else stack, definition, existing, clear_parameters
        )
        result = self._valid(stack.name, definition, stack.id)
        check_resource_total(self, definition, result)
        if action is Action.UPDATE and base.template:
            _refuse_immutable_changes(validate_stack(base, self.plugins, self.limits), result)
        updated = replace(
            stack,
            template=definition.template,
            files=dict(definition.files),
            environments=tuple(definition.environments),
            parameters=dict(definition.parameters),
            previous_template=base.template,
            previous_files=base.files,
            previous_environments=base.environments,
            previous_parameters=base.parameters,
            timeout_mins=timeout_mins if timeout_mins is not None else stack.timeout_mins,
            disable_rollback=stack.disable_rollback
            if disable_rollback is None
            else disable_rollback,
            converge=converge,
            tags=_updated_tags(stack, tags, kept=existing or action is not Action.UPDATE),
        )
        hidden = hidden_parameter_names(result.declarations)
        if not preempting:
            self._begin(stack, action, expected=stack.current_traversal)
            self.stacks.save_definition(updated, hidden)
            return self.get(stack.id)
        # The engine running the stack converges to whatever definition it finds once
        # the traversal changes: the new definition must be there first.
        self.stacks.save_definition(updated, hidden)
        try:
            self._begin(stack, action, expected=stack.current_traversal, allow_in_progress=True)
        except OperationInProgress:
            self.stacks.save_definition(stack, hidden)
            raise
        return self.get(stack.id)

    def delete(self, name_or_id: str) -> StackRecord:
        """Heat's stack delete, which also supersedes a create, update or rollback in progress.

        The engine running that operation sees it superseded, stops its
        steps where they stand (recording what they made) and deletes
        everything, so a stack stuck creating can always be deleted. Only a
        delete already in progress is not started again.
        """
        stack = self.get(name_or_id)
        if stack.status is Status.IN_PROGRESS and stack.action is Action.DELETE:
            raise OperationInProgress(stack)
        self._begin(stack, Action.DELETE, expected=stack.current_traversal, allow_in_progress=True)
        return self.get(stack.id)

    async def drift(self, name_or_id: str) -> list[ResourceDrift]:
        """Each live resource's real state against its record (secrets masked)."""
        stack = self.get(name_or_id)
        redactor = validate_stack(stack, self.plugins, self.limits).redactor
        found = []
        for record in self.resource_records(stack):
            drift = await observe(
                record, self.plugins, lambda observed: self._provider_context(stack, observed)
            )
            found.append(
                replace(
                    drift,
                    differences=tuple(
                        replace(
                            d, recorded=redactor.value(d.recorded), actual=redactor.value(d.actual)
                        )
                        for d in drift.differences
                    ),
                )
            )
        return found

    def _provider_context(self, stack: StackRecord, record: ResourceRecord) -> ProviderContext:
        configs = software_config_clients(self.database, stack)
        return ProviderContext.create(
            record.type,
            record.name,
            clients={
                **self.clients,
                STACKS_CLIENT: self._stack_client(stack, record.name),
                SOFTWARE_CONFIG_CLIENT: configs(record.name),
            },
        )

    async def resource_attributes(
        self, stack: StackRecord, record: ResourceRecord, names: Collection[str] = ()
    ) -> dict[str, Any]:
        """Heat's resource show: every attribute of the type (and ``names``), read live.

        Recorded values stand in for those the plugin cannot give; hidden
        parameter values are masked.
        """
        values: dict[str, Any] = dict(record.attributes)
        # An alias of a plugin's type answers as that plugin.
        plugin_class = self.plugins.get(record.implementation or record.type)
        if plugin_class is not None and record.physical_id is not None:
            plugin = plugin_class()
            properties, _ = validate_properties(
                plugin.schema, dict(record.properties), self.plugins.schemas()
            )
            request = AttributeRequest(
                name=record.name,
                physical_id=record.physical_id,
                properties=properties,
                names=frozenset(plugin.schema.attributes) | frozenset(names),
                provider_data=record.provider_data,
            )
            try:
                fetched = await plugin.attributes(self._provider_context(stack, record), request)
            except (ProviderError, KilnError):
                fetched = {}
            values.update({k: v for k, v in fetched.items() if v is not None or k not in values})
        redactor = validate_stack(stack, self.plugins, self.limits).redactor
        return redactor.value(values)  # type: ignore[no-any-return]

    def resource_description(self, stack: StackRecord, resource: str) -> str:
        """The ``description`` the template gives the resource ("" when none)."""
        template = validate_stack(stack, self.plugins, self.limits).template
        if template is None or resource not in template.resources:
            return ""
        section = template.document.data.get(template.key("resources"))
        body = section.get(resource) if isinstance(section, Mapping) else None
        text = body.get(template.key("description")) if isinstance(body, Mapping) else None
        return text if isinstance(text, str) else ""

    def _stack_client(self, stack: StackRecord, resource: str) -> NestedStackClient:
        return NestedStackClient(
            stack, resource, self.stacks, self.resources, self.plugins, self.limits, self.launch
        )

    def mark_unhealthy(
        self, name_or_id: str, resource: str, reason: str = "", *, reset: bool = False
    ) -> ResourceRecord:
        """Heat's mark-unhealthy: CHECK_FAILED with ``reason``, so the next update replaces
        the resource; ``reset`` marks it CHECK_COMPLETE again."""
        stack = self.get(name_or_id)
        if stack.status is Status.IN_PROGRESS:
            raise OperationInProgress(stack)
        record = live_records(self.resources.by_stack(stack.id)).get(resource)
        if record is None:
            raise ResourceNotFoundError(resource)
        status = Status.COMPLETE if reset else Status.FAILED
        reason = reason or ("state changed" if reset else "marked unhealthy")
        marked = record.evolve(action=Action.CHECK, status=status, status_reason=reason)
        return self.resources.save(marked, state_event(marked, Action.CHECK, status, reason))

    def environment(self, name_or_id: str) -> dict[str, Any]:
        """The stack's environment as its files merge (Heat's ``environment show``)."""
        stack = self.get(name_or_id)
        result = validate_stack(stack, self.plugins, self.limits)
        merged = result.environment.to_dict() if result.environment is not None else {}
        return result.redactor.value(merged)  # type: ignore[no-any-return]

    def resource_metadata(self, name_or_id: str, resource: str) -> Any:
        """The resource's ``metadata`` as the template resolves it now."""
        stack = self.get(name_or_id)
        result = validate_stack(stack, self.plugins, self.limits)
        template = result.template
        if template is None or resource not in template.resources:
            raise ResourceNotFoundError(resource)
        scope = recorded_scope(result, self.resources.by_stack(stack.id), self.plugins)
        try:
            metadata = Resolver(scope, result.limits).resolve(template.resources[resource].metadata)
        except EvaluationError as error:
            raise KilnError(result.redactor.text(error.message)) from error
        return result.redactor.value(metadata if metadata is not None else {})

    def suspend(self, name_or_id: str) -> StackRecord:
        """Heat's stack suspend: every resource, dependents first."""
        return self._record_action(name_or_id, Action.SUSPEND)

    def resume(self, name_or_id: str) -> StackRecord:
        """Heat's stack resume, for a suspended stack (or one whose resume failed)."""
        stack = self.get(name_or_id)
        if stack.action not in (Action.SUSPEND, Action.RESUME) or stack.state == "RESUME_COMPLETE":
            raise KilnError(
                f"Resume of stack {stack.name} is not supported in state {stack.state}: "
                "it is not suspended."
            )
        return self._record_action(stack.id, Action.RESUME)

    def check(self, name_or_id: str) -> StackRecord:
        """Heat's stack check: each resource's plugin reads whether it still exists."""
        return self._record_action(name_or_id, Action.CHECK)

    def _record_action(self, name_or_id: str, action: Action) -> StackRecord:
        stack = self.get(name_or_id)
        self._begin(stack, action, expected=stack.current_traversal)
        return self.get(stack.id)

    def clear_hooks(self, name_or_id: str, resource: str, hooks: Sequence[str]) -> None:
        """Heat's ``hook clear``: let a resource paused at these hooks go on."""
        stack = self.get(name_or_id)
        template = validate_stack(stack, self.plugins, self.limits).template
        if template is not None and resource not in template.resources:
            raise ResourceNotFoundError(resource)
        signals = SignalRepository(self.database)
        for hook in hooks:
            if hook not in HOOK_TYPES:
                raise KilnError(f"Invalid hook type {hook!r} (one of {', '.join(HOOK_TYPES)}).")
            signals.add(
                stack.id, resource, {"unset_hook": hook, "traversal": stack.current_traversal}
            )
            self.events.append(
                stack.id,
                EventDraft(
                    resource_name=resource,
                    action=Action.SIGNAL,
                    status=Status.COMPLETE,
                    status_reason=f"Hook {hook} is cleared",
                ),
            )

    def pending_hooks(self, name_or_id: str) -> list[tuple[str, str]]:
        """Heat's ``hook poll``: (resource, hook) pairs paused in the current operation."""
        stack = self.get(name_or_id)
        events = self.event_records(stack)
        started = max((e.sequence for e in events if e.physical_id == stack.id), default=0)
        hooks = HookSignals(
            self.events, SignalRepository(self.database), stack.id, stack.current_traversal or ""
        )
        pending = []
        for event in events:
            hook = paused_hook(event.status_reason) if event.sequence > started else None
            if hook is not None and not hooks.cleared(event.resource_name, hook):
                pending.append((event.resource_name, hook))
        return pending

    async def signal(
        self, name_or_id: str, resource: str, details: Any = None
    ) -> Mapping[str, Any]:
        """Heat's resource signal: what the resource kept of the signal."""
        if isinstance(details, Mapping) and "unset_hook" in details:
            self.clear_hooks(name_or_id, resource, [str(details["unset_hook"])])
            return {"unset_hook": details["unset_hook"]}
        stack = self.get(name_or_id)
        record = live_records(self.resources.by_stack(stack.id)).get(resource)
        if record is None:
            raise ResourceNotFoundError(resource)
        delivery = SignalDelivery(
            self.stacks,
            self.resources,
            self.events,
            self.plugins,
            self.limits,
            self.launch,
            clients=self.clients,
        )
        return await delivery.deliver(stack, record, details)

    def cancel(self, name_or_id: str, *, rollback: bool = True) -> StackRecord:
        """Cancel a create or update in progress: roll back, or just stop (``rollback=False``).

        Stopping is Heat's: the stack and its nested stacks in progress fail with
        "Stack ACTION cancelled", nothing new starts, and the resources already in
        progress go on to their end.
        """
        stack = self.get(name_or_id)
        if stack.status is not Status.IN_PROGRESS or stack.action not in (
            Action.CREATE,
            Action.UPDATE,
        ):
            raise KilnError(
                f"Cancelling {stack.action} of stack {stack.name} is not supported "
                f"in state {stack.state}."
            )
        # Asked for, a rollback happens even when the stack's failures would not roll back.
        if rollback:
            won = self.stacks.begin_operation(
                stack.id,
                Action.ROLLBACK,
                stack.current_traversal,
                str(uuid.uuid4()),
                None,
                allow_in_progress=True,
                reason="Stack cancelled",
                record_event=True,
            )
        else:
            won = self._stop(stack)
            for nested in self._nested_in_progress(stack) if won else []:
                self._stop(nested)
        if not won:
            raise KilnError(f"Stack {stack.name} changed while cancelling; try again.")
        return self.get(stack.id)

    def _stop(self, stack: StackRecord) -> bool:
        """End the operation in progress as FAILED under a new traversal of its own."""
        traversal = str(uuid.uuid4())
        return self.stacks.begin_operation(
            stack.id,
            stack.action,
            stack.current_traversal,
            traversal,
            None,
            allow_in_progress=True,
            reason="Stack cancelled",
        ) and self.stacks.finish_operation(
            stack.id,
            traversal,
            Status.FAILED,
            f"Stack {stack.action} cancelled",
            record_event=True,
        )

    def _nested_in_progress(self, stack: StackRecord) -> list[StackRecord]:
        """The stack's nested stacks, at every depth, whose operation is in progress."""
        found: list[StackRecord] = []
        level = self.stacks.children(stack.id)
        while level:
            found += [child for child in level if child.status is Status.IN_PROGRESS]
            level = [grandchild for child in level for grandchild in self.stacks.children(child.id)]
        return found

    # -- helpers ---------------------------------------------------------------

    def _valid(self, name: str, definition: StackDefinition, stack_id: str) -> ValidationResult:
        stack = self._proposed(name, definition, stack_id)
        result = validate_stack(stack, self.plugins, self.limits)
        if not result.ok:
            raise TemplateError(result.errors)
        self.check_nested(stack, result)
        return result

    def _begin(
        self,
        stack: StackRecord,
        action: Action,
        expected: str | None,
        allow_in_progress: bool = False,
    ) -> None:
        won = start_operation(
            self.stacks, stack, action, expected, allow_in_progress=allow_in_progress
        )
        if not won:
            current = self.stacks.get(stack.id)
            raise OperationInProgress(current or stack)

    @staticmethod
    def merged_definition(
        stack: StackRecord, definition: StackDefinition, existing: bool, clear: Sequence[str]
    ) -> StackDefinition:
        if not existing:
            return definition
        parameters = {k: v for k, v in stack.parameters.items() if k not in clear}
        parameters.update(definition.parameters)
        return StackDefinition(
            template=definition.template or stack.template,
            files={**stack.files, **definition.files},
            environments=tuple(definition.environments) or stack.environments,
            parameters=parameters,
        )
