"""CloudFormation's AWS::LanguageExtensions: Fn::ForEach unrolled before validation."""

from __future__ import annotations

import pytest

from kiln.errors import TemplatePath
from kiln.providers.registry import load_schema_registry
from kiln.template.transforms import declared_transforms, expand_language_extensions
from kiln.template.validate import SourceText, validate_template


def test_resources_and_nested_outputs_are_unrolled() -> None:
    data = {
        "Transform": "AWS::LanguageExtensions",
        "Resources": {
            "Fn::ForEach::Topics": [
                "Name",
                ["Alpha", "Beta-1"],
                {
                    "Topic&{Name}": {
                        "Type": "AWS::SNS::Topic",
                        "Properties": {"TopicName": {"Ref": "Name"}},
                    }
                },
            ]
        },
        "Outputs": {
            "Fn::ForEach::Out": [
                "Name",
                ["Alpha"],
                {
                    "Fn::ForEach::Inner": [
                        "Attr",
                        ["Arn", "Id"],
                        {"${Name}${Attr}": {"Value": {"Fn::Sub": "${Name}-${Attr}"}}},
                    ]
                },
            ]
        },
    }
    expanded, diagnostics = expand_language_extensions(data)
    assert diagnostics == []
    assert expanded["Resources"] == {
        "TopicAlpha": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "Alpha"}},
        "TopicBeta1": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "Beta-1"}},
    }
    assert expanded["Outputs"] == {
        "AlphaArn": {"Value": {"Fn::Sub": "Alpha-Arn"}},
        "AlphaId": {"Value": {"Fn::Sub": "Alpha-Id"}},
    }


@pytest.mark.parametrize(
    ("loop", "message"),
    [
        pytest.param(["X", "not-a-list", {}], "Fn::ForEach::L: arguments must be", id="collection"),
        pytest.param(
            ["X", [["nested"]], {"A${X}": {}}],
            "Fn::ForEach::L: collection items must be strings",
            id="items",
        ),
        pytest.param("X", "Fn::ForEach::L: arguments must be", id="shape"),
    ],
)
def test_malformed_loops_are_reported(loop: object, message: str) -> None:
    _, diagnostics = expand_language_extensions({"Resources": {"Fn::ForEach::L": loop}})
    assert [d.code for d in diagnostics] == ["F3003"]
    assert diagnostics[0].message.startswith(message)
    assert str(diagnostics[0].path).startswith(str(TemplatePath(("Resources", "Fn::ForEach::L"))))


@pytest.mark.parametrize(
    ("data", "transforms"),
    [
        pytest.param(
            {"Transform": "AWS::LanguageExtensions"}, ["AWS::LanguageExtensions"], id="one"
        ),
        pytest.param({"Transform": ["A", 3, "B"]}, ["A", "B"], id="list"),
        pytest.param({}, [], id="none"),
        pytest.param([], [], id="not-a-map"),
    ],
)
def test_declared_transforms(data: object, transforms: list[str]) -> None:
    assert declared_transforms(data) == transforms


def test_expanded_template_validates_with_its_generated_names() -> None:
    text = (
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Transform: AWS::LanguageExtensions\n"
        "Resources:\n"
        "  Fn::ForEach::Values:\n"
        "    - Name\n"
        "    - [a, b]\n"
        "    - Value${Name}:\n"
        "        Type: OS::Heat::Value\n"
        "        Properties: {value: !Ref Name}\n"
        "Outputs:\n"
        "  Both:\n"
        "    Value: !Join [',', [!GetAtt Valuea.value, !GetAtt Valueb.value,\n"
        "                        !GetAtt Valuec.value]]\n"
    )
    result = validate_template(SourceText("t.yaml", text), registry=load_schema_registry())
    assert [(d.code, str(d.path)) for d in result.diagnostics] == [
        ("R4001", "Outputs.Both.Value.Fn::Join[1][2].Fn::GetAtt[0]")
    ]
    assert result.template is not None
    assert sorted(result.template.resources) == ["Valuea", "Valueb"]
