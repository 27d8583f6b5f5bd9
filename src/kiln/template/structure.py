"""Check a template's layout and build its :class:`Template` declarations.

Every section, resource and output is checked for unknown keys and wrong
shapes; all problems come back together with the (partial) template, so the
later stages can still look for reference and property errors.
"""

from __future__ import annotations

from typing import Any

from kiln.errors import Diagnostic, Severity, TemplatePath
from kiln.template.dialects import Dialect, ParseNotes
from kiln.template.functions.base import Function
from kiln.template.model import (
    OutputDeclaration,
    ResourceDeclaration,
    Template,
    detect_dialect,
    format_key,
)
from kiln.template.source import Document
from kiln.template.transforms import (
    LANGUAGE_EXTENSIONS,
    declared_transforms,
    expand_language_extensions,
)

_MAP_SECTIONS = ("parameters", "resources", "outputs", "conditions", "mappings")


def load_template(document: Document) -> tuple[Template | None, list[Diagnostic]]:
    dialect, diagnostics = detect_dialect(document.data)
    if dialect is None:
        return None, diagnostics
    data: dict[Any, Any] = document.data
    builder = _Builder(dialect)
    if dialect.kind == "cfn" and LANGUAGE_EXTENSIONS in declared_transforms(data):
        data, expansion_diagnostics = expand_language_extensions(data)
        builder.diagnostics.extend(expansion_diagnostics)
    for key in data:
        if key not in dialect.sections:
            builder.error("T2004", f"{key!r} is not a valid template section", TemplatePath((key,)))
    sections = {name: builder.section(data, name) for name in _MAP_SECTIONS}
    description = data.get(builder.key("description"))
    if description is not None and not isinstance(description, str):
        builder.error(
            "T2005", "the description must be a string", TemplatePath((builder.key("description"),))
        )
    conditions = {
        name: builder.parse(body, TemplatePath((builder.key("conditions"), name)), condition=True)
        for name, body in sections["conditions"].items()
    }
    resources = builder.resources(sections["resources"])
    outputs = builder.outputs(sections["outputs"])
    template = Template(
        document=document,
        dialect=dialect,
        description=description if isinstance(description, str) else "",
        parameters=sections["parameters"],
        parameter_groups=data.get("parameter_groups"),
        conditions=conditions,
        resources=resources,
        outputs=outputs,
        mappings=sections["mappings"],
        transform=data.get("Transform"),
        function_calls=tuple(builder.calls),
    )
    for _, function in builder.calls:
        builder.diagnostics.extend(function.check())
    return template, diagnostics + builder.diagnostics


class _Builder:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.diagnostics: list[Diagnostic] = []
        #: Every call, with the path of the body (properties, value...) it sits in.
        self.calls: list[tuple[TemplatePath, Function]] = []

    def key(self, hot_name: str) -> str:
        return format_key(self.dialect, hot_name)

    def error(self, code: str, message: str, path: TemplatePath) -> None:
        self.diagnostics.append(Diagnostic(code, message, path, Severity.ERROR))

    def section(self, data: dict[Any, Any], hot_name: str) -> dict[str, Any]:
        name = self.key(hot_name)
        value = data.get(name)
        if value is None or name not in self.dialect.sections:
            return {}
        if not isinstance(value, dict):
            self.error("T2006", f"the {name} section must be a mapping", TemplatePath((name,)))
            return {}
        return value

    def parse(self, raw: Any, path: TemplatePath, condition: bool = False) -> Any:
        notes = ParseNotes()
        parsed = self.dialect.parse(raw, path, "condition" if condition else "value", notes)
        self.calls.extend((path, call) for call in notes.calls)
        self.diagnostics.extend(notes.unavailable)
        return parsed

    def resources(self, section: dict[str, Any]) -> dict[str, ResourceDeclaration]:
        declarations: dict[str, ResourceDeclaration] = {}
        root = TemplatePath((self.key("resources"),))
        for name, body in section.items():
            declaration = self.resource(str(name), body, root / name)
            if declaration is not None:
                declarations[str(name)] = declaration
        return declarations

    def _check_keys(
        self, body: dict[Any, Any], allowed: frozenset[str], what: str, path: TemplatePath
    ) -> None:
        for key in body:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                self.error(
                    "T2010", f"{key!r} is not a valid key in {what} (allowed: {known})", path / key
                )

    def resource(self, name: str, body: Any, path: TemplatePath) -> ResourceDeclaration | None:
        if not isinstance(body, dict):
            self.error("T2011", f"resource {name!r} must be a mapping", path)
            return None
        self._check_keys(body, self.dialect.resource_keys, "a resource definition", path)
        type_key = self.key("type")
        type_name = body.get(type_key)
        if type_name is None:
            self.error("T2012", f"resource {name!r} is missing {type_key!r}", path)
            type_name = ""
        elif not isinstance(type_name, str):
            self.error(
                "T2013", f"the {type_key} of resource {name!r} must be a string", path / type_key
            )
            type_name = ""
        for key, expected in (("properties", dict), ("metadata", dict), ("update_policy", dict)):
            value = body.get(self.key(key))
            if value is not None and not isinstance(value, expected) and not _is_call(value):
                self.error("T2014", f"{self.key(key)} must be a mapping", path / self.key(key))
        depends_on, depends_paths = self._depends_on(body, path)
        self._deletion_policy(body, path)
        return ResourceDeclaration(
            name=name,
            type=type_name,
            properties=self.parse(body.get(self.key("properties")), path / self.key("properties")),
            metadata=self.parse(body.get(self.key("metadata")), path / self.key("metadata")),
            depends_on=depends_on,
            deletion_policy=self.parse(
                body.get(self.key("deletion_policy")), path / self.key("deletion_policy")
            ),
            update_policy=self.parse(
                body.get(self.key("update_policy")), path / self.key("update_policy")
            ),
            condition=self.parse(
                body.get(self.key("condition")), path / self.key("condition"), True
            ),
            external_id=self.parse(body.get("external_id"), path / "external_id"),
            path=path,
            depends_on_paths=depends_paths,
        )

    def _depends_on(
        self, body: dict[Any, Any], path: TemplatePath
    ) -> tuple[tuple[str, ...], tuple[TemplatePath, ...]]:
        key = self.key("depends_on")
        value = body.get(key)
        if value is None:
            return (), ()
        if isinstance(value, str):
            return (value,), (path / key,)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value), tuple(path / key / index for index in range(len(value)))
        self.error(
            "T2015", f"{key} must be a resource name or a list of resource names", path / key
        )
        return (), ()

    def _deletion_policy(self, body: dict[Any, Any], path: TemplatePath) -> None:
        key = self.key("deletion_policy")
        value = body.get(key)
        if isinstance(value, str) and value not in self.dialect.deletion_policies:
            allowed = ", ".join(sorted(self.dialect.deletion_policies))
            self.error(
                "T2016", f"invalid deletion policy {value!r} (allowed: {allowed})", path / key
            )

    def outputs(self, section: dict[str, Any]) -> dict[str, OutputDeclaration]:
        declarations: dict[str, OutputDeclaration] = {}
        root = TemplatePath((self.key("outputs"),))
        value_key = self.key("value")
        for name, body in section.items():
            path = root / name
            if not isinstance(body, dict):
                self.error("T2020", f"output {name!r} must be a mapping", path)
                continue
            self._check_keys(body, self.dialect.output_keys, "an output definition", path)
            if value_key not in body:
                self.error("T2021", f"output {name!r} is missing {value_key!r}", path)
            export = body.get("Export")
            if export is not None and not (isinstance(export, dict) and set(export) == {"Name"}):
                self.error(
                    "T2022", "Export must be a mapping with exactly one key, Name", path / "Export"
                )
            declarations[str(name)] = OutputDeclaration(
                name=str(name),
                value=self.parse(body.get(value_key), path / value_key),
                description=body.get(self.key("description")),
                condition=self.parse(
                    body.get(self.key("condition")), path / self.key("condition"), True
                ),
                export=self.parse(body.get("Export"), path / "Export"),
                path=path,
            )
        return declarations


def _is_call(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1
