"""The ``kiln template`` commands, run as a real process the way users run them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "webapp.yaml"


def kiln(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiln.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_example_validates_and_renders_without_showing_the_secret() -> None:
    run = kiln(
        "template", "validate", str(EXAMPLE), "-P", "admin_password=correct-horse", "--render"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "valid HOT 2018-08-31 template, 3 resources, 4 parameters, 3 outputs" in run.stdout
    assert "correct-horse" not in run.stdout + run.stderr
    assert "admin_password: '******'" in run.stdout
    assert "log_level: debug" in run.stdout
    assert "- shop-web-a" in run.stdout


def test_errors_are_printed_one_per_line_with_location(tmp_path: Path) -> None:
    template = tmp_path / "broken.yaml"
    template.write_text(
        "heat_template_version: 2015-04-30\n"
        "resources:\n"
        "  web:\n"
        "    type: OS::Heat::Value\n"
        "    properties:\n"
        "      value: {str_split: [',', 'a,b']}\n"
        "  db:\n"
        "    type: OS::Heat::None\n"
        "    depends_on: [wbe]\n"
    )
    run = kiln("template", "validate", str(template))
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert lines[:2] == [
        f"{template}:6:15 F3001 resources.web.properties.value.str_split "
        "str_split is not available in heat_template_version 2015-04-30: "
        "it was introduced in 2015-10-15",
        f"{template}:9:18 R4008 resources.db.depends_on[0] "
        "depends on resource 'wbe', which is not defined",
    ]
    assert lines[-1] == f"{template}: 2 errors, 0 warnings"


def test_json_output_and_lint_mode(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        "heat_template_version: wallaby\nresources:\n  s:\n    type: OS::Nova::Server\n"
    )
    strict = json.loads(kiln("template", "validate", str(template), "-f", "json").stdout)
    lint = kiln("template", "validate", str(template), "-f", "json", "--lint")
    assert strict["valid"] is False
    assert [d["code"] for d in strict["diagnostics"]] == ["S6001"]
    assert strict["diagnostics"][0]["severity"] == "error"
    assert lint.returncode == 0
    linted = json.loads(lint.stdout)
    assert linted["valid"] is True
    assert linted["diagnostics"][0] == {
        "code": "S6001",
        "severity": "warning",
        "path": "resources.s.type",
        "segments": ["resources", "s", "type"],
        "line": 4,
        "column": 5,
        "message": "unknown resource type OS::Nova::Server",
        "source": str(template),
    }


def test_get_file_is_sent_in_the_files_map(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "boot.sh").write_text("#!/bin/sh\necho hi\n")
    template = tmp_path / "t.yaml"
    template.write_text(
        "heat_template_version: 2016-10-14\n"
        "resources:\n"
        "  v:\n"
        "    type: OS::Heat::Value\n"
        "    properties: {value: {get_file: scripts/boot.sh}}\n"
        "  w:\n"
        "    type: OS::Heat::Value\n"
        "    properties: {value: {get_file: scripts/missing.sh}}\n"
    )
    run = kiln("template", "validate", str(template))
    assert run.returncode == 1
    assert run.stdout.splitlines()[0] == (
        f"{template}:8:26 F3006 resources.w.properties.value.get_file "
        "file 'scripts/missing.sh' is not in the files map sent with the template"
    )


def test_environment_and_parameters_are_applied(tmp_path: Path) -> None:
    environment = tmp_path / "env.yaml"
    environment.write_text("parameters:\n  environment: production\n")
    run = kiln(
        "template",
        "validate",
        str(EXAMPLE),
        "-e",
        str(environment),
        "-P",
        "admin_password=longenough",
        "--render",
    )
    assert run.returncode == 0, run.stdout
    assert "log_level: warning" in run.stdout
    assert "- shop-web-c" in run.stdout
    assert "production_only: shop is live" in run.stdout


@pytest.mark.parametrize(
    ("version", "present", "absent"),
    [
        pytest.param("2013-05-23", ["Fn::Join", "get_attr"], ["str_split", "if"], id="2013"),
        pytest.param(
            "2015-10-15", ["str_split", "repeat"], ["Fn::Join", "map_merge"], id="2015-10-15"
        ),
        pytest.param("pike", ["make_url", "contains", "yaql"], ["Fn::Select"], id="pike"),
        pytest.param("cfn", ["Fn::Sub", "Fn::Cidr", "Fn::Equals"], ["get_param"], id="cfn"),
    ],
)
def test_functions_lists_exactly_the_version_table(
    version: str, present: list[str], absent: list[str]
) -> None:
    run = kiln("template", "functions", "--version", version)
    assert run.returncode == 0
    names = {line.split("│")[1].strip() for line in run.stdout.splitlines() if line.count("│") >= 4}
    assert set(present) <= names
    assert not set(absent) & names


def test_provider_templates_are_read_and_validated(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "server.yaml").write_text(
        "heat_template_version: 2018-08-31\n"
        "parameters:\n"
        "  size: {type: number, default: 1}\n"
        "resources:\n"
        "  inner:\n"
        "    type: OS::Heat::Value\n"
        "    properties: {value: {get_param: sise}}\n"
        "outputs:\n"
        "  size: {value: {get_param: size}}\n"
    )
    environment = tmp_path / "env.yaml"
    environment.write_text("resource_registry:\n  My::Server: lib/server.yaml\n")
    template = tmp_path / "t.yaml"
    template.write_text(
        "heat_template_version: 2018-08-31\n"
        "resources:\n"
        "  a:\n"
        "    type: My::Server\n"
        "    properties: {size: 2, colour: red}\n"
        "  b:\n"
        "    type: lib/server.yaml\n"
        "    properties: {size: 3}\n"
    )
    run = kiln("template", "validate", str(template), "-e", str(environment))
    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        f"{template}:5:27 S6002 resources.a.properties.colour unknown property 'colour'",
        "lib/server.yaml:7:26 R4002 resources.inner.properties.value.get_param "
        "parameter 'sise' is not defined",
        f"{template}: 2 errors, 0 warnings",
    ]
