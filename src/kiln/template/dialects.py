"""One table per template dialect: HOT versions and CloudFormation.

A :class:`Dialect` says which sections, keys and functions a version has and
parses plain data into a tree of :class:`Function` calls. Which class
implements a name in which version follows Heat's own tables exactly
(``get_attr`` changes twice, ``repeat`` three times, ``Fn::*`` names are
removed in 2014-10-16, ``Fn::Select`` in 2015-10-15).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kiln.errors import Diagnostic, PathSegment, Severity, TemplatePath
from kiln.template.functions import (
    cfn_core,
    cfn_extras,
    cfn_logic,
    hot_collections,
    hot_core,
    hot_logic,
    hot_strings,
)
from kiln.template.functions.base import Function, Removed

FunctionTable = Mapping[str, type[Function]]

HOT_VERSIONS: tuple[str, ...] = (
    "2013-05-23",
    "2014-10-16",
    "2015-04-30",
    "2015-10-15",
    "2016-04-08",
    "2016-10-14",
    "2017-02-24",
    "2017-09-01",
    "2018-03-02",
    "2018-08-31",
    "2021-04-16",
)

HOT_ALIASES: Mapping[str, str] = {
    "newton": "2016-10-14",
    "ocata": "2017-02-24",
    "pike": "2017-09-01",
    "queens": "2018-03-02",
    "rocky": "2018-08-31",
    "wallaby": "2021-04-16",
}

CFN_VERSIONS: tuple[str, ...] = ("2010-09-09",)
#: Heat's own CFN-format templates use ``HeatTemplateFormatVersion: 2012-12-12``.
HEAT_CFN_VERSIONS: tuple[str, ...] = ("2012-12-12",)

_CFN_IN_HOT_2013: FunctionTable = {
    "Fn::GetAZs": cfn_extras.GetAZs,
    "Ref": cfn_core.Ref,
    "Fn::Select": cfn_core.Select,
    "Fn::Join": cfn_core.Join,
    "Fn::Split": cfn_core.Split,
    "Fn::Replace": cfn_extras.Replace,
    "Fn::Base64": cfn_core.Base64,
    "Fn::MemberListToMap": cfn_extras.MemberListToMap,
    "Fn::ResourceFacade": cfn_extras.ResourceFacade,
}
_REMOVED_IN_2014 = {name: Removed for name in _CFN_IN_HOT_2013 if name != "Fn::Select"}


def _hot_function_tables() -> dict[str, dict[str, type[Function]]]:
    """Build each version's table from the previous one plus its changes."""
    tables: dict[str, dict[str, type[Function]]] = {}
    table: dict[str, type[Function]] = {
        "get_param": hot_core.GetParam,
        "get_resource": hot_core.GetResource,
        "get_attr": hot_core.GetAttrThenSelect,
        "get_file": hot_core.GetFile,
        "list_join": hot_strings.ListJoin,
        "str_replace": hot_strings.StrReplace,
        "resource_facade": hot_core.ResourceFacade,
        **_CFN_IN_HOT_2013,
    }
    changes: dict[str, dict[str, type[Function]]] = {
        "2013-05-23": {},
        "2014-10-16": {"get_attr": hot_core.GetAttr, **_REMOVED_IN_2014},
        "2015-04-30": {"digest": hot_strings.Digest, "repeat": hot_collections.Repeat},
        "2015-10-15": {
            "get_attr": hot_core.GetAttrAllAttributes,
            "list_join": hot_strings.ListJoinMultiple,
            "str_replace": hot_strings.StrReplaceJson,
            "str_split": hot_strings.StrSplit,
            "Fn::Select": Removed,
        },
        "2016-04-08": {"map_merge": hot_collections.MapMerge},
        "2016-10-14": {
            "repeat": hot_collections.RepeatWithMap,
            "yaql": hot_collections.Yaql,
            "map_replace": hot_collections.MapReplace,
            "if": hot_logic.If,
        },
        "2017-02-24": {
            "filter": hot_collections.Filter,
            "str_replace_strict": hot_strings.StrReplaceStrict,
        },
        "2017-09-01": {
            "repeat": hot_collections.RepeatWithNestedLoop,
            "make_url": hot_strings.MakeUrl,
            "list_concat": hot_collections.ListConcat,
            "list_concat_unique": hot_collections.ListConcatUnique,
            "contains": hot_collections.Contains,
            "str_replace_vstrict": hot_strings.StrReplaceVeryStrict,
        },
        "2018-03-02": {},
        "2018-08-31": {},
        "2021-04-16": {"if": hot_logic.IfNullable},
    }
    for version in HOT_VERSIONS:
        table = {**table, **changes[version]}
        tables[version] = table
    return tables


def _hot_condition_tables() -> dict[str, dict[str, type[Function]]]:
    base: dict[str, type[Function]] = {
        "get_param": hot_core.GetParam,
        "equals": hot_logic.Equals,
        "not": hot_logic.Not,
        "and": hot_logic.And,
        "or": hot_logic.Or,
    }
    tables: dict[str, dict[str, type[Function]]] = {}
    for version in HOT_VERSIONS:
        if version < "2016-10-14":
            tables[version] = {}
        elif version < "2017-09-01":
            tables[version] = dict(base)
        else:
            tables[version] = {
                **base,
                "yaql": hot_collections.Yaql,
                "contains": hot_collections.Contains,
            }
    return tables


CFN_FUNCTIONS: FunctionTable = {
    "Ref": cfn_core.Ref,
    "Fn::GetAtt": cfn_core.GetAtt,
    "Fn::Join": cfn_core.Join,
    "Fn::Select": cfn_core.Select,
    "Fn::Split": cfn_core.Split,
    "Fn::Sub": cfn_core.Sub,
    "Fn::Base64": cfn_core.Base64,
    "Fn::FindInMap": cfn_core.FindInMap,
    "Fn::GetAZs": cfn_extras.GetAZs,
    "Fn::If": cfn_logic.If,
    "Fn::Cidr": cfn_extras.Cidr,
    "Fn::Length": cfn_extras.Length,
    "Fn::ToJsonString": cfn_extras.ToJsonString,
    "Fn::ImportValue": cfn_extras.ImportValue,
    "Fn::Replace": cfn_extras.Replace,
    "Fn::MemberListToMap": cfn_extras.MemberListToMap,
    "Fn::ResourceFacade": cfn_extras.ResourceFacade,
}

CFN_CONDITION_FUNCTIONS: FunctionTable = {
    "Fn::Equals": cfn_logic.Equals,
    "Fn::And": cfn_logic.And,
    "Fn::Or": cfn_logic.Or,
    "Fn::Not": cfn_logic.Not,
    "Condition": cfn_logic.Condition,
    "Ref": cfn_core.Ref,
    "Fn::FindInMap": cfn_core.FindInMap,
    "Fn::Select": cfn_core.Select,
    "Fn::Join": cfn_core.Join,
    "Fn::Split": cfn_core.Split,
    "Fn::Sub": cfn_core.Sub,
    "Fn::Length": cfn_extras.Length,
    "Fn::ToJsonString": cfn_extras.ToJsonString,
    "Fn::GetAZs": cfn_extras.GetAZs,
    "Fn::Base64": cfn_core.Base64,
}

ParseMode = Literal["value", "condition"]


@dataclass(frozen=True)
class Dialect:
    """What one template format version allows, and how to parse its calls."""

    kind: Literal["hot", "cfn"]
    version: str
    functions: FunctionTable
    condition_functions: FunctionTable
    sections: frozenset[str]
    resource_keys: frozenset[str]
    output_keys: frozenset[str]
    parameter_keys: frozenset[str]
    deletion_policies: frozenset[str]
    aliases: tuple[str, ...] = ()
    #: Names a call could have in some other version: used for "introduced in" hints.
    known_elsewhere: Mapping[str, str] = field(default_factory=dict)

    @property
    def version_key(self) -> str:
        """The version line as written in templates (``heat_template_version``...)."""
        return "heat_template_version" if self.kind == "hot" else "AWSTemplateFormatVersion"

    @property
    def has_conditions(self) -> bool:
        return bool(self.condition_functions)

    def parse(
        self,
        data: Any,
        path: TemplatePath,
        mode: ParseMode = "value",
        notes: ParseNotes | None = None,
    ) -> Any:
        """Turn plain data into a tree where every call is a Function instance.

        ``notes`` collects, in the same single pass, every call made and every
        single-key map naming a function this version lacks but another has.
        """
        return self._parse(data, list(path), mode, notes or ParseNotes())

    def parse_condition(
        self, data: Any, path: TemplatePath, notes: ParseNotes | None = None
    ) -> Any:
        return self.parse(data, path, "condition", notes)

    def _parse(
        self, data: Any, segments: list[PathSegment], mode: ParseMode, notes: ParseNotes
    ) -> Any:
        # Paths are only materialised for calls: a template has far more nodes than calls.
        data_type = type(data)
        if data_type is dict:
            if len(data) == 1:
                ((key, value),) = data.items()
                table = self.functions if mode == "value" else self.condition_functions
                if type(key) is str:
                    if key in table:
                        path = TemplatePath(segments)
                        return self._make_call(table[key], key, value, path, mode, notes)
                    self._note_unavailable(key, segments, notes)
            parsed: dict[Any, Any] = {}
            for key, value in data.items():
                segments.append(key)
                parsed[key] = self._parse(value, segments, mode, notes)
                segments.pop()
            return parsed
        if data_type is list:
            items: list[Any] = []
            for index, item in enumerate(data):
                segments.append(index)
                items.append(self._parse(item, segments, mode, notes))
                segments.pop()
            return items
        return data

    def _note_unavailable(self, key: str, segments: list[PathSegment], notes: ParseNotes) -> None:
        if (
            key in self.known_elsewhere
            and key not in self.functions
            and key not in self.condition_functions
        ):
            notes.unavailable.append(
                Diagnostic(
                    "F3001",
                    f"{key} is not available in {self.version_key} {self.version}: "
                    f"it was introduced in {self.known_elsewhere[key]}",
                    TemplatePath((*segments, key)),
                    Severity.ERROR,
                )
            )

    def _make_call(
        self,
        cls: type[Function],
        name: str,
        value: Any,
        path: TemplatePath,
        mode: ParseMode,
        notes: ParseNotes,
    ) -> Function:
        args_path = path / name
        positions = cls.condition_arguments
        if positions == "all":
            args = self.parse(value, args_path, "condition", notes)
        elif positions == "first" and isinstance(value, list) and value:
            args = [self.parse(value[0], args_path / 0, "condition", notes)]
            args += [self.parse(v, args_path / i, mode, notes) for i, v in enumerate(value[1:], 1)]
        else:
            args = self.parse(value, args_path, mode, notes)
        call = cls(name, args, path, self.version)
        notes.calls.append(call)
        return call


@dataclass
class ParseNotes:
    """What one parsing pass found besides the parsed tree."""

    calls: list[Function] = field(default_factory=list)
    unavailable: list[Diagnostic] = field(default_factory=list)


_HOT_SECTIONS = frozenset(
    {
        "heat_template_version",
        "description",
        "parameter_groups",
        "parameters",
        "resources",
        "outputs",
    }
)
_HOT_RESOURCE_KEYS = frozenset(
    {
        "type",
        "properties",
        "metadata",
        "depends_on",
        "deletion_policy",
        "update_policy",
        "description",
    }
)
_HOT_PARAMETER_KEYS = frozenset(
    {"type", "label", "description", "default", "hidden", "constraints", "immutable"}
)
_DELETION_POLICIES = frozenset({"Delete", "Retain", "Snapshot"})


def _first_versions() -> dict[str, str]:
    """Function name -> the first HOT version that has it (not as Removed)."""
    first: dict[str, str] = {}
    for version in HOT_VERSIONS:
        for table in (_HOT_FUNCTIONS[version], _HOT_CONDITIONS[version]):
            for name, cls in table.items():
                if cls is not Removed and name not in first:
                    first[name] = version
    return first


_HOT_FUNCTIONS = _hot_function_tables()
_HOT_CONDITIONS = _hot_condition_tables()
_HOT_FIRST_VERSIONS = _first_versions()


def _hot_dialect(version: str) -> Dialect:
    conditions = version >= "2016-10-14"
    return Dialect(
        kind="hot",
        version=version,
        functions=_HOT_FUNCTIONS[version],
        condition_functions=_HOT_CONDITIONS[version],
        sections=_HOT_SECTIONS | ({"conditions"} if conditions else set()),
        resource_keys=_HOT_RESOURCE_KEYS | ({"external_id", "condition"} if conditions else set()),
        output_keys=frozenset({"description", "value"} | ({"condition"} if conditions else set())),
        parameter_keys=_HOT_PARAMETER_KEYS | ({"tags"} if version >= "2018-03-02" else set()),
        deletion_policies=_DELETION_POLICIES
        | ({"delete", "retain", "snapshot"} if conditions else set()),
        aliases=tuple(alias for alias, date in HOT_ALIASES.items() if date == version),
        known_elsewhere=_HOT_FIRST_VERSIONS,
    )


HOT_DIALECTS: Mapping[str, Dialect] = {version: _hot_dialect(version) for version in HOT_VERSIONS}

CFN_DIALECT = Dialect(
    kind="cfn",
    version="2010-09-09",
    functions=CFN_FUNCTIONS,
    condition_functions=CFN_CONDITION_FUNCTIONS,
    sections=frozenset(
        {
            "AWSTemplateFormatVersion",
            "HeatTemplateFormatVersion",
            "Description",
            "Metadata",
            "Parameters",
            "Rules",
            "Mappings",
            "Conditions",
            "Transform",
            "Resources",
            "Outputs",
        }
    ),
    resource_keys=frozenset(
        {
            "Type",
            "Properties",
            "Metadata",
            "DependsOn",
            "DeletionPolicy",
            "UpdatePolicy",
            "UpdateReplacePolicy",
            "CreationPolicy",
            "Condition",
            "Description",
            "Version",
        }
    ),
    output_keys=frozenset({"Description", "Value", "Condition", "Export"}),
    parameter_keys=frozenset(
        {
            "Type",
            "Default",
            "NoEcho",
            "AllowedValues",
            "AllowedPattern",
            "MaxLength",
            "MinLength",
            "MaxValue",
            "MinValue",
            "Description",
            "ConstraintDescription",
        }
    ),
    deletion_policies=frozenset({"Delete", "Retain", "Snapshot", "RetainExceptOnCreate"}),
)


def hot_dialect(version_text: object) -> Dialect | None:
    """The dialect for a ``heat_template_version`` value (date or release name)."""
    if isinstance(version_text, str):
        version = HOT_ALIASES.get(version_text, version_text)
        return HOT_DIALECTS.get(version)
    # YAML reads an unquoted 2013-05-23 as a date.
    if hasattr(version_text, "isoformat"):
        return HOT_DIALECTS.get(version_text.isoformat())
    return None


def all_hot_version_names() -> list[str]:
    return [*HOT_VERSIONS, *HOT_ALIASES]
