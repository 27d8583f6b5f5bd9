"""Heat's resource registry: which implementation a resource type name stands for.

An environment's ``resource_registry`` renames types (``"OS::Networking::FloatingIP":
"OS::Neutron::FloatingIP"``), renames whole families with a trailing ``*``,
points a type at a provider template (a target ending in ``.yaml`` or
``.template``), overrides one resource by name under ``resources:``, and puts
hooks and restricted actions on resources whose names match a glob.

The registry is kept as the ordered list of edits its environments made (set
this mapping, remove that one) and replayed when asked. That is what lets a
``null`` in a later environment remove what an earlier one set, exactly as
Heat's ``load`` does, while merging environments stays a concatenation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from functools import cached_property
from typing import Any, Literal, TypeAlias

from kiln.errors import Diagnostic, Severity, TemplatePath

__all__ = [
    "HOOK_TYPES",
    "RESTRICTED_ACTIONS",
    "TEMPLATE_SUFFIXES",
    "RegistryOperation",
    "RemoveEntry",
    "ResolvedType",
    "ResourceRegistry",
    "SetActions",
    "SetBaseUrl",
    "SetMapping",
    "parse_resource_registry",
]

HOOK_TYPES = ("pre-create", "pre-update", "pre-delete", "post-create", "post-update", "post-delete")
RESTRICTED_ACTIONS = ("update", "replace")
#: Heat treats a mapping as a provider template only when it ends in one of these.
TEMPLATE_SUFFIXES = (".yaml", ".template")
#: Bounds on following aliases; wildcard maps can grow a type name forever.
MAX_ALIAS_DEPTH = 50
MAX_ALIAS_STEPS = 1000

RegistryPath: TypeAlias = tuple[str, ...]
ActionKind = Literal["hooks", "restricted_actions"]
_REGISTRY_ROOT = TemplatePath(("resource_registry",))


@dataclass(frozen=True)
class SetMapping:
    """``type_name: target`` inside the registry map at ``path``.

    ``path`` uses Heat's registry layout: ``()`` is the top level,
    ``("resources", "web")`` the block for resource ``web``, and
    ``("resources", "nested", "child")`` a block for a nested stack's resource.
    """

    path: RegistryPath
    type_name: str
    target: str


@dataclass(frozen=True)
class RemoveEntry:
    """A ``null``: drops ``key`` from the map at ``path`` (a trailing ``*`` drops a prefix)."""

    path: RegistryPath
    key: str


@dataclass(frozen=True)
class SetActions:
    """``hooks`` or ``restricted_actions`` of the resource block at ``path``."""

    path: RegistryPath
    kind: ActionKind
    names: tuple[str, ...]


@dataclass(frozen=True)
class SetBaseUrl:
    """Where relative template locations of the map at ``path`` are found (python-heatclient)."""

    path: RegistryPath
    base_url: str


RegistryOperation: TypeAlias = SetMapping | RemoveEntry | SetActions | SetBaseUrl


@dataclass(frozen=True)
class ResolvedType:
    """What a resource type name ends up meaning in an environment.

    ``chain`` lists every type name visited, the requested one first and
    ``type_name`` last. ``template`` is the provider template location when the
    chain ends at one. ``entry`` is the registry path of the user mapping that
    supplied the template, which :meth:`ResourceRegistry.for_nested` removes so a
    provider template can use the type it overrides.
    """

    type_name: str
    template: str | None
    chain: tuple[str, ...]
    entry: RegistryPath | None = None
    base_url: str | None = None


class _AliasError(Exception):
    """Stops a search whose aliases loop or never end; ``signature`` names the loop once."""

    def __init__(self, diagnostic: Diagnostic, signature: frozenset[str]) -> None:
        self.diagnostic = diagnostic
        self.signature = signature
        super().__init__(diagnostic.message)


@dataclass
class _Block:
    """One map of the replayed registry: the top level or one resource's block."""

    mappings: dict[str, str] = field(default_factory=dict)
    hooks: tuple[str, ...] | None = None
    restricted_actions: tuple[str, ...] | None = None
    base_url: str | None = None
    children: dict[str, _Block] = field(default_factory=dict)


@dataclass(frozen=True)
class _Candidate:
    rank: tuple[int, int, RegistryPath]
    layer: int
    entry: RegistryPath
    next_type: str | None = None
    template: str | None = None
    base_url: str | None = None


@dataclass(frozen=True)
class ResourceRegistry:
    """The user's registry, optionally layered over an operator's global one.

    ``fallback`` plays the part of Heat's global environment: its entries come
    after every entry of this registry, and its aliases resolve inside it only.
    """

    operations: tuple[RegistryOperation, ...] = ()
    fallback: ResourceRegistry | None = None

    @cached_property
    def _state(self) -> _Block:
        return _replay(self.operations)

    def merged_with(self, other: ResourceRegistry) -> ResourceRegistry:
        """``other`` applied after this one: its mappings win, its ``null``s remove ours."""
        return ResourceRegistry(self.operations + other.operations, other.fallback or self.fallback)

    def with_global(self, global_registry: ResourceRegistry | None) -> ResourceRegistry:
        return replace(self, fallback=global_registry)

    def sets_entry(self, entry: RegistryPath) -> bool:
        """Whether one of this registry's own edits sets the mapping at ``entry``."""
        return any(
            isinstance(operation, SetMapping) and (*operation.path, operation.type_name) == entry
            for operation in self.operations
        )

    def resolve(
        self,
        type_name: str,
        resource_name: str | None = None,
        *,
        is_known: Callable[[str], bool] | None = None,
    ) -> tuple[ResolvedType, list[Diagnostic]]:
        """Follow mappings from ``type_name`` the way Heat picks an implementation.

        Candidates are tried in Heat's order: this registry before the global
        one, a mapping for the named resource before top-level ones, then
        top-level entries by key. ``is_known`` says which types have a plugin;
        with it, a mapping that leads to no known type falls through to the next
        candidate (as in Heat). When nothing is found the plain chain is
        returned and the caller reports its unknown ``type_name``.

        Aliases that loop or never end give a diagnostic with an empty path (the
        caller knows where the type was written) and the type unresolved.
        """
        try:
            return self._resolve(type_name, resource_name, is_known), []
        except _AliasError as error:
            return ResolvedType(type_name, None, (type_name,)), [error.diagnostic]

    def hooks_for(self, resource_name: str) -> frozenset[str]:
        """Hooks set by every ``resources`` block whose name pattern matches."""
        return self._actions_for(resource_name, "hooks")

    def restricted_actions_for(self, resource_name: str) -> frozenset[str]:
        return self._actions_for(resource_name, "restricted_actions")

    def for_nested(
        self, resource_name: str, *, without: RegistryPath | None = None
    ) -> ResourceRegistry:
        """The registry a nested stack created by ``resource_name`` sees.

        Its ``resources`` blocks are the children of every block whose pattern
        matches ``resource_name``, the exact name's block last so it wins.
        ``without`` drops the provider-template mapping that created the nested
        stack (a :attr:`ResolvedType.entry`), so the template may use the type
        it overrides without recursing into itself.
        """
        root = _replay(self.operations)
        if without:
            _pop_entry(root, without)
        children: dict[str, _Block] = {}
        for pattern, block in root.children.items():
            if fnmatchcase(resource_name, pattern):
                children.update(block.children)
        exact = root.children.get(resource_name)
        if exact is not None:
            children.update(exact.children)
        root.children = children
        return ResourceRegistry(tuple(_snapshot(root, ())), self.fallback)

    def validate(self) -> list[Diagnostic]:
        """Alias loops reachable from this registry's own top-level and per-resource entries.

        Paths are relative to the environment document
        (``resource_registry.resources.web["OS::Nova::Server"]``).
        """
        state = self._state
        checks: list[tuple[str, str | None, TemplatePath]] = [
            (key[:-1] if key.endswith("*") else key, None, _REGISTRY_ROOT / key)
            for key in state.mappings
        ]
        for name, block in state.children.items():
            for key in block.mappings:
                checks.append((key, name, _REGISTRY_ROOT.join(("resources", name, key))))
        diagnostics: list[Diagnostic] = []
        reported: set[frozenset[str]] = set()
        for type_name, resource_name, where in checks:
            try:
                self._resolve(type_name, resource_name, None)
            except _AliasError as error:
                if error.signature not in reported:
                    reported.add(error.signature)
                    diagnostics.append(error.diagnostic.under(where))
        return diagnostics

    def to_dict(self) -> dict[str, Any]:
        """The effective registry as environment data (removals already applied)."""
        return _block_dict(self._state, top_level=True)

    def _resolve(
        self, type_name: str, resource_name: str | None, is_known: Callable[[str], bool] | None
    ) -> ResolvedType:
        layers = self._layers()
        if is_known is not None:
            found = _Search(layers, resource_name, is_known).find(type_name, 0)
            if found is not None:
                return found
        plain = _Search(layers, resource_name, None).find(type_name, 0)
        return plain if plain is not None else ResolvedType(type_name, None, (type_name,))

    def _layers(self) -> list[_Block]:
        layers = [self._state]
        if self.fallback is not None:
            layers.extend(self.fallback._layers())
        return layers

    def _actions_for(self, resource_name: str, kind: ActionKind) -> frozenset[str]:
        names: set[str] = set()
        for pattern, block in self._state.children.items():
            values = getattr(block, kind)
            if values and fnmatchcase(resource_name, pattern):
                names.update(values)
        return frozenset(names)


class _Search:
    """One depth-first search through the candidates, as Heat's recursion walks them."""

    def __init__(
        self,
        layers: list[_Block],
        resource_name: str | None,
        is_known: Callable[[str], bool] | None,
    ) -> None:
        self.layers = layers
        self.resource_name = resource_name or None
        self.is_known = is_known
        self.stack: list[tuple[str, int]] = []
        self.failed: set[tuple[str, int]] = set()
        self.steps = 0

    def find(self, type_name: str, start: int) -> ResolvedType | None:
        key = (type_name, start)
        if key in self.failed:
            return None
        self._check_bounds(key)
        self.stack.append(key)
        try:
            for candidate in self._candidates(type_name, start):
                found = self._follow(type_name, candidate)
                if found is not None:
                    return found
        finally:
            self.stack.pop()
        self.failed.add(key)
        return None

    def _check_bounds(self, key: tuple[str, int]) -> None:
        self.steps += 1
        if key in self.stack:
            names = [name for name, _ in self.stack[self.stack.index(key) :]]
            message = f"resource type alias cycle: {' -> '.join([*names, key[0]])}"
            raise _AliasError(Diagnostic("E7110", message), frozenset(names))
        if len(self.stack) >= MAX_ALIAS_DEPTH or self.steps > MAX_ALIAS_STEPS:
            first = self.stack[0][0]
            message = (
                f'resource type "{first}" maps through too many aliases '
                f"(more than {MAX_ALIAS_DEPTH} in a row or {MAX_ALIAS_STEPS} in all)"
            )
            raise _AliasError(Diagnostic("E7111", message), frozenset({first}))

    def _follow(self, type_name: str, candidate: _Candidate) -> ResolvedType | None:
        if candidate.next_type is None:
            entry = (
                candidate.entry if candidate.template is not None and candidate.layer == 0 else None
            )
            return ResolvedType(
                type_name, candidate.template, (type_name,), entry, candidate.base_url
            )
        found = self.find(candidate.next_type, candidate.layer)
        if found is None:
            return None
        return replace(found, chain=(type_name, *found.chain))

    def _candidates(self, type_name: str, start: int) -> list[_Candidate]:
        candidates: list[_Candidate] = []
        for layer in range(start, len(self.layers)):
            candidates.extend(self._layer_candidates(layer, type_name))
        # Plugins live in Heat's global registry, after every user entry.
        global_rank = max(len(self.layers) - 1, 1)
        if self.is_known(type_name) if self.is_known is not None else not candidates:
            candidates.append(
                _Candidate((global_rank, -1, (type_name,)), global_rank, (type_name,))
            )
        return sorted(candidates, key=lambda candidate: candidate.rank)

    def _layer_candidates(self, layer: int, type_name: str) -> Iterator[_Candidate]:
        state = self.layers[layer]
        if layer == 0 and type_name.endswith(TEMPLATE_SUFFIXES):
            # A type that is itself a template location names a provider template.
            yield _Candidate(
                (layer, -1, (type_name,)), layer, (type_name,), None, type_name, state.base_url
            )
        elif type_name in state.mappings:
            yield _entry_candidate(layer, (), type_name, state, type_name, state.base_url)
        block = state.children.get(self.resource_name) if self.resource_name else None
        if block is not None and type_name in block.mappings:
            path = ("resources", self.resource_name or "")
            yield _entry_candidate(
                layer, path, type_name, block, type_name, block.base_url or state.base_url
            )
        for key, target in state.mappings.items():
            matches = key != type_name and type_name != target and type_name.startswith(key[:-1])
            if key.endswith("*") and matches and not target.endswith(TEMPLATE_SUFFIXES):
                yield _entry_candidate(layer, (), key, state, type_name, state.base_url)


def _entry_candidate(
    layer: int, path: RegistryPath, key: str, block: _Block, type_name: str, base_url: str | None
) -> _Candidate:
    target = block.mappings[key]
    entry = (*path, key)
    rank = (layer, -len(entry), entry)
    if key.endswith(TEMPLATE_SUFFIXES):
        return _Candidate(rank, layer, entry, None, key, base_url)
    if target.endswith(TEMPLATE_SUFFIXES):
        return _Candidate(rank, layer, entry, None, target, base_url)
    if key.endswith("*"):
        expanded = target[:-1] + type_name[len(key) - 1 :] if target.endswith("*") else target
        return _Candidate(rank, layer, entry, expanded)
    return _Candidate(rank, layer, entry, target)


def _replay(operations: tuple[RegistryOperation, ...]) -> _Block:
    root = _Block()
    for operation in operations:
        if isinstance(operation, RemoveEntry):
            _remove(root, operation.path, operation.key)
            continue
        block = _block_at(root, operation.path, create=True)
        if block is None:
            continue
        if isinstance(operation, SetMapping):
            block.mappings[operation.type_name] = operation.target
            if block is not root:
                block.children.pop(operation.type_name, None)
        elif isinstance(operation, SetActions):
            setattr(block, operation.kind, operation.names)
        else:
            block.base_url = operation.base_url
    return root


def _block_at(root: _Block, path: RegistryPath, *, create: bool) -> _Block | None:
    if not path:
        return root
    if path[0] != "resources" or len(path) < 2:
        return None
    block = root
    for name in path[1:]:
        child = block.children.get(name)
        if child is None:
            if not create:
                return None
            child = block.children[name] = _Block()
            if block is not root:
                # Below the top level a block's entries and child blocks share one map.
                block.mappings.pop(name, None)
        block = child
    return block


def _remove(root: _Block, path: RegistryPath, key: str) -> None:
    if path == ("resources",):
        # Heat's wildcard removal only touches type entries, never resource blocks.
        if not key.endswith("*"):
            root.children.pop(key, None)
        return
    block = _block_at(root, path, create=False)
    if block is None:
        return
    if key.endswith("*"):
        for name in [name for name in block.mappings if name.startswith(key[:-1])]:
            del block.mappings[name]
    elif block is root and key == "resources":
        root.children.clear()
    elif key in ("hooks", "restricted_actions"):
        setattr(block, key, None)
    elif key == "base_url":
        block.base_url = None
    else:
        block.mappings.pop(key, None)
        if block is not root:
            block.children.pop(key, None)


def _pop_entry(root: _Block, entry: RegistryPath) -> None:
    block = _block_at(root, entry[:-1], create=False)
    if block is not None:
        block.mappings.pop(entry[-1], None)


def _snapshot(block: _Block, path: RegistryPath) -> Iterator[RegistryOperation]:
    for key, target in block.mappings.items():
        yield SetMapping(path, key, target)
    if block.base_url is not None:
        yield SetBaseUrl(path, block.base_url)
    kinds: tuple[ActionKind, ...] = ("hooks", "restricted_actions")
    for kind in kinds:
        names = getattr(block, kind)
        if names is not None:
            yield SetActions(path, kind, names)
    for name, child in block.children.items():
        yield from _snapshot(child, (*path, name) if path else ("resources", name))


def _block_dict(block: _Block, *, top_level: bool) -> dict[str, Any]:
    data: dict[str, Any] = dict(block.mappings)
    if block.base_url is not None:
        data["base_url"] = block.base_url
    if block.hooks is not None:
        data["hooks"] = list(block.hooks)
    if block.restricted_actions is not None:
        data["restricted_actions"] = list(block.restricted_actions)
    children = {name: _block_dict(child, top_level=False) for name, child in block.children.items()}
    children = {name: child for name, child in children.items() if child}
    if top_level and children:
        data["resources"] = children
    elif not top_level:
        data.update(children)
    return data


# ---------------------------------------------------------------------------
# Parsing


def parse_resource_registry(
    data: Any, path: TemplatePath = _REGISTRY_ROOT
) -> tuple[ResourceRegistry, list[Diagnostic]]:
    """Build a registry from an environment's ``resource_registry`` section.

    ``path`` is where the section sits; every diagnostic is under it. Entries
    with errors are left out, the rest still apply.
    """
    parser = _RegistryParser()
    if not isinstance(data, Mapping):
        parser.error("E7004", "resource_registry must be a mapping", path)
    else:
        parser.top_level(data, path)
    return ResourceRegistry(tuple(parser.operations)), parser.diagnostics


class _RegistryParser:
    def __init__(self) -> None:
        self.operations: list[RegistryOperation] = []
        self.diagnostics: list[Diagnostic] = []

    def error(self, code: str, message: str, where: TemplatePath) -> None:
        self.diagnostics.append(Diagnostic(code, message, where, Severity.ERROR))

    def warning(self, code: str, message: str, where: TemplatePath) -> None:
        self.diagnostics.append(Diagnostic(code, message, where, Severity.WARNING))

    def top_level(self, data: Mapping[Any, Any], path: TemplatePath) -> None:
        for key, value in data.items():
            where = path / str(key)
            if not isinstance(key, str):
                self.error("E7005", "resource type names must be strings", where)
            elif key == "resources":
                self.resources(value, where)
            elif key == "base_url":
                self.base_url((), value, where)
            elif key in ("hooks", "restricted_actions"):
                message = (
                    f"{key} only take effect under resource_registry.resources.<resource name>"
                )
                self.warning("E7112", message, where)
            elif isinstance(value, Mapping):
                message = f'a map under "{key}" has no effect; only "resources" may hold one'
                self.warning("E7112", message, where)
            else:
                self.mapping((), key, value, where)

    def resources(self, value: Any, where: TemplatePath) -> None:
        if value is None:
            self.operations.append(RemoveEntry((), "resources"))
            return
        if not isinstance(value, Mapping):
            self.error(
                "E7102", "resources must map resource names (or name patterns) to blocks", where
            )
            return
        for name, body in value.items():
            block_where = where / str(name)
            if not isinstance(name, str):
                self.error("E7005", "resource names must be strings", block_where)
            elif body is None:
                self.operations.append(RemoveEntry(("resources",), name))
            elif isinstance(body, Mapping):
                self.block(("resources", name), body, block_where)
            else:
                message = f'the block for resource "{name}" must be a mapping'
                self.error("E7102", message, block_where)

    def block(self, block_path: RegistryPath, body: Mapping[Any, Any], where: TemplatePath) -> None:
        for key, value in body.items():
            entry_where = where / str(key)
            if not isinstance(key, str):
                self.error("E7005", "keys of a resource block must be strings", entry_where)
            elif key in ("hooks", "restricted_actions"):
                self.actions(
                    block_path,
                    "hooks" if key == "hooks" else "restricted_actions",
                    value,
                    entry_where,
                )
            elif key == "base_url":
                self.base_url(block_path, value, entry_where)
            elif isinstance(value, Mapping):
                # A map names a resource of the nested stack this resource creates.
                self.block((*block_path, key), value, entry_where)
            else:
                self.mapping(block_path, key, value, entry_where)

    def mapping(self, block_path: RegistryPath, key: str, value: Any, where: TemplatePath) -> None:
        if value is None:
            self.operations.append(RemoveEntry(block_path, key))
            return
        if not isinstance(value, str):
            message = f'the mapping for "{key}" must be a resource type name or a template location'
            self.error("E7101", message, where)
            return
        self.mapping_warnings(block_path, key, value, where)
        self.operations.append(SetMapping(block_path, key, value))

    def mapping_warnings(
        self, block_path: RegistryPath, key: str, value: str, where: TemplatePath
    ) -> None:
        if key.endswith("*") and value.endswith(TEMPLATE_SUFFIXES):
            message = (
                f'wildcard "{key}" cannot map to a template; it only matches that literal name'
            )
            self.warning("E7108", message, where)
        elif key.endswith("*") and block_path:
            message = (
                f'wildcard "{key}" only works at the top level; here it matches that literal name'
            )
            self.warning("E7108", message, where)
        looks_like_file = "/" in value or value.lower().endswith((".yml", ".json"))
        if (
            looks_like_file
            and not value.endswith(TEMPLATE_SUFFIXES)
            and not key.endswith(TEMPLATE_SUFFIXES)
        ):
            message = (
                f'"{value}" is used as a resource type name: only locations ending in '
                ".yaml or .template are provider templates"
            )
            self.warning("E7109", message, where)

    def actions(
        self, block_path: RegistryPath, kind: ActionKind, value: Any, where: TemplatePath
    ) -> None:
        if value is None:
            self.operations.append(RemoveEntry(block_path, kind))
            return
        allowed = HOOK_TYPES if kind == "hooks" else RESTRICTED_ACTIONS
        noun = "hook" if kind == "hooks" else "restricted action"
        if isinstance(value, str):
            items: list[tuple[Any, TemplatePath]] = [(value, where)]
        elif isinstance(value, list):
            items = [(item, where / index) for index, item in enumerate(value)]
        else:
            code = "E7103" if kind == "hooks" else "E7105"
            self.error(code, f"{kind} must be a {noun} name or a list of them", where)
            return
        names: list[str] = []
        for item, item_where in items:
            if isinstance(item, str) and item in allowed:
                names.append(item)
                continue
            described = f'"{item}"' if isinstance(item, str) else "a non-string value"
            message = f"{described} is not a {noun}; expected one of: {', '.join(allowed)}"
            self.error("E7104" if kind == "hooks" else "E7106", message, item_where)
        self.operations.append(SetActions(block_path, kind, tuple(dict.fromkeys(names))))

    def base_url(self, block_path: RegistryPath, value: Any, where: TemplatePath) -> None:
        if value is None:
            self.operations.append(RemoveEntry(block_path, "base_url"))
        elif isinstance(value, str):
            self.operations.append(SetBaseUrl(block_path, value))
        else:
            self.error("E7107", "base_url must be a string", where)
