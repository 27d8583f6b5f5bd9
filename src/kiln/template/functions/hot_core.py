"""HOT's core functions: parameters, resources, attributes, files and the resource facade.

These are the calls that reach outside the template, so each one asks the
:class:`~kiln.template.functions.base.Scope` and turns the scope's ``KeyError``
into an error naming the call's own path. Where Heat deliberately answers a
bad path with an empty value instead of failing (``get_param`` gives ``''``,
``get_attr`` gives ``None``), so does Kiln: templates in the wild rely on it
for optional values.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from kiln.errors import Diagnostic, EvaluationError, TemplatePath
from kiln.template.functions.base import (
    Function,
    NeedsKnownValue,
    Reference,
    ReferenceKind,
    Resolver,
    Unknown,
)

__all__ = [
    "FACADE_SECTIONS",
    "GetAttr",
    "GetAttrAllAttributes",
    "GetAttrThenSelect",
    "GetFile",
    "GetParam",
    "GetResource",
    "ResourceFacade",
    "argument_error",
    "is_member_reference",
    "select_from_attribute",
    "select_from_parameter",
]

#: A problem with a call's arguments: the message (without the function name) and where.
Problem = tuple[str, TemplatePath]

FACADE_SECTIONS: tuple[str, ...] = ("metadata", "deletion_policy", "update_policy")


def _is_call(node: Any) -> bool:
    return isinstance(node, Function)


def _is_empty(node: Any) -> bool:
    """Heat's ``not args`` test, which must not run on a call (always present) or an Unknown."""
    if _is_call(node) or isinstance(node, Unknown):
        return False
    return not node


def argument_error(
    function: Function, message: str, at: TemplatePath | None = None
) -> EvaluationError:
    """An argument problem found while evaluating a call.

    When the call's :meth:`~Function.check` reports the same problem from its
    literal arguments, the error keeps the static code F3003: validation then
    holds one diagnostic twice, which it can drop, rather than two that differ.
    """
    where = at or function.args_path
    text = f"{function.name}: {message}"
    static = any(d.path == where and d.message == text for d in function.check())
    return function.error(message, "F3003" if static else "F3004", where)


def select_from_parameter(value: Any, path: Sequence[Any]) -> Any:
    """Follow ``get_param``'s path the way Heat does.

    A string key indexes a list when it reads as an integer; a step that
    cannot be taken (missing key, index out of range, key of the wrong type,
    a scalar in the way) makes the whole result ``''`` instead of an error.
    An Unknown on the way makes the call Unknown.
    """
    current = value
    for key in path:
        if isinstance(current, Unknown):
            raise NeedsKnownValue(current.description)
        if not isinstance(current, (Mapping, Sequence)) or not isinstance(key, (str, int)):
            return ""
        index: Any = key
        if isinstance(current, Sequence) and isinstance(key, str):
            try:
                index = int(key)
            except ValueError:
                return ""
        try:
            current = current[index]
        except (KeyError, IndexError, TypeError):
            return ""
    return current


def is_member_reference(attribute: str) -> bool:
    """``resource.NAME``: a member's (or nested resource's) reference, which a path may
    follow with the name of the member attribute to read (``[group, resource.0, value]``)."""
    return attribute.startswith("resource.") and attribute.count(".") == 1


def select_from_attribute(value: Any, path: Sequence[Any]) -> Any:
    """Follow ``get_attr``'s path the way Heat does.

    Unlike ``get_param``, a string never indexes a list, and a step that
    cannot be taken makes the result ``None`` (an attribute that is not there
    yet reads as null in Heat).
    """
    current: Any = value
    for key in path:
        if isinstance(current, Unknown):
            raise NeedsKnownValue(current.description)
        if not isinstance(current, (Mapping, Sequence)) or not isinstance(key, (str, int)):
            return None
        index: Any = key
        try:
            current = current[index]
        except (KeyError, IndexError, TypeError):
            return None
    return current


class GetParam(Function):
    """``get_param: name`` or ``get_param: [name, key_or_index, ...]``.

    Pseudo parameters (``OS::stack_name``, ``OS::stack_id``,
    ``OS::project_id``) come from the same scope lookup as declared ones.
    """

    def _name_path(self) -> TemplatePath:
        return self.args_path / 0 if isinstance(self.args, list) else self.args_path

    def _shape_problem(self, args: Any) -> Problem | None:
        """What Heat rejects before looking the parameter up; calls inside are skipped."""
        if _is_call(args):
            return None
        if _is_empty(args):
            return "a parameter name is required", self.args_path
        if not isinstance(args, (str, list)):
            return (
                "the argument must be a parameter name or a list [name, key_or_index, ...]",
                self.args_path,
            )
        name = args if isinstance(args, str) else args[0]
        if not _is_call(name) and not isinstance(name, str):
            return "the parameter name must be a string", self._name_path()
        return None

    def check(self) -> Iterator[Diagnostic]:
        problem = self._shape_problem(self.args)
        if problem is not None:
            yield self.diagnostic(problem[0], at=problem[1])

    def references(self) -> Iterator[Reference]:
        args = self.args
        name = (
            args if isinstance(args, str) else args[0] if isinstance(args, list) and args else None
        )
        if isinstance(name, str):
            yield Reference("parameter", name, self._name_path())

    def evaluate(self, resolver: Resolver) -> Any:
        args = resolver.known(self.args)
        problem = self._shape_problem(args)
        if problem is not None:
            raise argument_error(self, *problem)
        name, path = (args, []) if isinstance(args, str) else (args[0], args[1:])
        try:
            value = resolver.scope.parameter(name)
        except KeyError:
            raise self.error(
                f"parameter {name!r} is not defined", "R4002", at=self._name_path()
            ) from None
        return select_from_parameter(value, path)


class _NamedLookup(Function):
    """A call whose one argument is a name (a string) that the scope looks up."""

    #: What the name names, in messages ("resource name").
    argument: ClassVar[str]
    #: The kind of reference a literal name makes.
    reference_kind: ClassVar[ReferenceKind]
    #: The message (a format string with ``name``) and code for a name the scope lacks.
    missing: ClassVar[tuple[str, str]]

    def _usage(self) -> str:
        return f"the argument must be a {self.argument} (a string)"

    def check(self) -> Iterator[Diagnostic]:
        if not _is_call(self.args) and not isinstance(self.args, str):
            yield self.diagnostic(self._usage())

    def references(self) -> Iterator[Reference]:
        if isinstance(self.args, str):
            yield Reference(self.reference_kind, self.args, self.args_path)

    def evaluate(self, resolver: Resolver) -> Any:
        name = resolver.known(self.args)
        if not isinstance(name, str):
            raise argument_error(self, self._usage())
        try:
            return self._look_up(resolver, name)
        except KeyError:
            message, code = self.missing
            raise self.error(message.format(name=name), code) from None

    @abc.abstractmethod
    def _look_up(self, resolver: Resolver, name: str) -> Any:
        """The scope's value for ``name``; ``KeyError`` when there is none."""


class GetResource(_NamedLookup):
    """``get_resource: name``: the physical id of a resource of this template."""

    argument = "resource name"
    reference_kind = "resource"
    missing = ("resource {name!r} is not defined", "R4001")

    def _look_up(self, resolver: Resolver, name: str) -> Any:
        return resolver.scope.resource_reference(name)


class GetAttrThenSelect(Function):
    """``get_attr: [resource, attribute, path...]`` of 2013-05-23.

    Heat 2013-05-23 reads the attribute and then selects the path from its
    value; later versions pass the path to the resource instead, which only
    changes which attribute values Heat caches. The result is the same: a
    path that leads nowhere gives ``None``.
    """

    #: 2015-10-15 lets ``get_attr: [resource]`` return every attribute.
    allows_all_attributes: ClassVar[bool] = False
    usage: ClassVar[str] = "[resource_name, attribute, (path), ...]"

    def _shape_problem(self, args: Any) -> Problem | None:
        usage = f"the argument must be a list {self.usage}"
        minimum = 1 if self.allows_all_attributes else 2
        if not isinstance(args, list) or len(args) < minimum:
            return usage, self.args_path
        if not _is_call(args[0]) and not isinstance(args[0], str):
            return "the resource name must be a string", self.args_path / 0
        if len(args) > 1 and not self._attribute_allowed(args[1]):
            return "the attribute name must be a string", self.args_path / 1
        return None

    def _attribute_allowed(self, attribute: Any) -> bool:
        if _is_call(attribute) or isinstance(attribute, str):
            return True
        return attribute is None and self.allows_all_attributes

    def check(self) -> Iterator[Diagnostic]:
        problem = self._shape_problem(self.args)
        if problem is not None:
            yield self.diagnostic(problem[0], at=problem[1])

    def references(self) -> Iterator[Reference]:
        args = self.args
        if not isinstance(args, list) or not args or not isinstance(args[0], str):
            return
        attribute = args[1] if len(args) > 1 and isinstance(args[1], str) else None
        key = args[2] if len(args) > 2 and isinstance(args[2], str) else None
        yield Reference("attribute", args[0], self.args_path / 0, attribute, key)

    def evaluate(self, resolver: Resolver) -> Any:
        problem = self._shape_problem(self.args)
        if problem is not None:
            raise argument_error(self, *problem)
        name = resolver.known(self.args[0])
        if not isinstance(name, str):
            raise argument_error(self, "the resource name must be a string", self.args_path / 0)
        if len(self.args) == 1 or self.args[1] is None:
            # Heat looks at the name as written: only a missing or literal null means "all".
            return self._all_attributes(resolver, name)
        attribute = resolver.known(self.args[1])
        if not isinstance(attribute, str):
            raise argument_error(self, "the attribute name must be a string", self.args_path / 1)
        path = resolver.known(self.args[2:])
        if is_member_reference(attribute) and path and isinstance(path[0], str):
            # ``[group, resource.0, value]`` is ``[group, resource.0.value]`` (Heat hands the
            # whole path to the resource), when the resource answers that name.
            try:
                value = resolver.scope.resource_attribute(name, f"{attribute}.{path[0]}")
            except KeyError:
                pass
            else:
                return select_from_attribute(value, path[1:])
        return select_from_attribute(self._attribute(resolver, name, attribute), path)

    def _attribute(self, resolver: Resolver, name: str, attribute: str) -> Any:
        try:
            return resolver.scope.resource_attribute(name, attribute)
        except KeyError:
            if not _resource_exists(resolver, name):
                raise self._undefined(name) from None
            raise self.error(
                f"resource {name!r} has no attribute {attribute!r}", "R4007", self.args_path / 1
            ) from None

    def _all_attributes(self, resolver: Resolver, name: str) -> Any:
        try:
            return resolver.scope.resource_attributes(name)
        except KeyError:
            raise self._undefined(name) from None

    def _undefined(self, name: str) -> EvaluationError:
        return self.error(f"resource {name!r} is not defined", "R4001", self.args_path / 0)


class GetAttr(GetAttrThenSelect):
    """``get_attr`` of 2014-10-16 and 2015-04-30: the attribute name is required."""


class GetAttrAllAttributes(GetAttr):
    """``get_attr`` from 2015-10-15: ``[resource]`` alone gives a map of every attribute.

    An explicit null attribute name (``[resource, null]``) does the same in
    Heat, and any path after it is ignored.
    """

    allows_all_attributes = True
    usage = "[resource_name] or [resource_name, attribute, (path), ...]"


def _resource_exists(resolver: Resolver, name: str) -> bool:
    """Tell a missing resource from a missing attribute, which the scope reports alike."""
    try:
        resolver.scope.resource_reference(name)
    except KeyError:
        return False
    return True


class GetFile(_NamedLookup):
    """``get_file: key``: contents the client sent in the request's files map.

    Kiln never reads the key from disk or the network: the template layer
    does no I/O, so the client must have resolved it already, as Heat's
    clients do.
    """

    argument = "file key"
    reference_kind = "file"
    missing = ("{name!r} is not in the files map", "F3006")

    def _look_up(self, resolver: Resolver, name: str) -> Any:
        return resolver.scope.file(name)


class ResourceFacade(Function):
    """``resource_facade: metadata|deletion_policy|update_policy`` of the parent resource.

    Heat accepts only the literal section names (not a call computing one),
    so neither does Kiln.
    """

    def _problem(self) -> str | None:
        if isinstance(self.args, str) and self.args in FACADE_SECTIONS:
            return None
        return f"the argument must be one of {', '.join(FACADE_SECTIONS)}"

    def check(self) -> Iterator[Diagnostic]:
        problem = self._problem()
        if problem is not None:
            yield self.diagnostic(problem)

    def evaluate(self, resolver: Resolver) -> Any:
        problem = self._problem()
        if problem is not None:
            raise argument_error(self, problem)
        try:
            return resolver.scope.resource_facade(self.args)
        except KeyError:
            raise self.error(
                f"there is no parent resource to read {self.args!r} from; "
                "resource_facade only works in a template used as a nested stack"
            ) from None
