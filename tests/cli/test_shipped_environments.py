"""``-e local``: environments shipped with Kiln, named on the command line."""

from __future__ import annotations

import fnmatch
import ipaddress
import random
import tomllib
from pathlib import Path

from cli_support import Kiln

from kiln.clients.local import LocalCloud

#: A server written with OpenStack's type name and the Local server's properties.
NOVA_SERVER = """\
heat_template_version: 2018-08-31
resources:
  server:
    type: OS::Nova::Server
    properties:
      command: exec sleep 300
outputs:
  address: {value: {get_attr: [server, first_address]}}
"""
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "local"


def test_the_shipped_environments_are_package_data_of_an_installed_kiln() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["kiln"]
    shipped = sorted((ROOT / "src" / "kiln" / "environments").glob("*.yaml"))
    assert [path.name for path in shipped] == ["local.yaml"]
    for path in shipped:
        relative = str(path.relative_to(ROOT / "src" / "kiln"))
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative
    assert (ROOT / "environments" / "local.yaml").read_text() == shipped[0].read_text()


def test_local_names_the_shipped_environment_that_maps_openstack_types(kiln: Kiln) -> None:
    template = str(kiln.write("server.yaml", NOVA_SERVER))
    unmapped = kiln.run("template", "validate", template)
    assert unmapped.returncode == 1
    assert "unknown resource type OS::Nova::Server" in unmapped.stdout

    mapped = kiln.run("template", "validate", template, "-e", "local")
    assert mapped.returncode == 0, mapped.stdout + mapped.stderr
    assert "valid HOT 2018-08-31 template, 1 resource" in mapped.stdout


def test_the_examples_validate_with_and_without_the_local_environment(kiln: Kiln) -> None:
    for name in ("web-cluster.yaml", "scaling.yaml"):
        for extra in ((), ("-e", "local")):
            run = kiln.run("template", "validate", str(EXAMPLES / name), *extra)
            assert run.returncode == 0, run.stdout + run.stderr


def test_a_file_of_that_name_comes_before_the_shipped_environment(kiln: Kiln) -> None:
    template = str(kiln.write("server.yaml", NOVA_SERVER))
    kiln.write("local", "resource_registry:\n  OS::Nova::Server: OS::Heat::RandomString\n")
    run = kiln.run("template", "validate", template, "-e", "local")
    assert run.returncode == 1
    assert "unknown property 'command'" in run.stdout


def test_an_unknown_name_is_a_usage_error_that_lists_the_shipped_ones(kiln: Kiln) -> None:
    template = str(kiln.write("server.yaml", NOVA_SERVER))
    for command in (("template", "validate", template), ("stack", "create", "s", "-t", template)):
        run = kiln.run(*command, "-e", "nosuch")
        assert run.returncode == 2
        assert "nosuch: no such file, nor an environment shipped with Kiln (local)" in run.stderr
        assert "Traceback" not in run.stderr


def test_stack_create_with_the_local_environment_runs_a_local_server(kiln: Kiln) -> None:
    network = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.0/29"
    kiln.environ["KILN_LOCAL_ADDRESS_RANGE"] = network
    kiln.environ["KILN_LOCAL_STOP_GRACE_SECONDS"] = "0.5"
    template = str(kiln.write("server.yaml", NOVA_SERVER))
    cloud = LocalCloud(kiln.home / "local", address_range=network, stop_grace_seconds=0.5)
    try:
        created = kiln.run("stack", "create", "one", "-t", template, "-e", "local", "--wait")
        assert created.returncode == 0, created.stdout + created.stderr
        shown = kiln.run("stack", "output", "show", "one", "address", "-f", "value")
        address = ipaddress.IPv4Address(shown.stdout.splitlines()[1])
        assert address in ipaddress.IPv4Network(network)
        servers = list(cloud.servers_directory.iterdir())
        assert len(servers) == 1
        server = cloud.server(servers[0].name)
        assert server is not None and server.status == "ACTIVE"

        deleted = kiln.run("stack", "delete", "one", "--yes", "--wait")
        assert deleted.returncode == 0, deleted.stdout + deleted.stderr
        assert list(cloud.servers_directory.iterdir()) == []
    finally:
        if cloud.servers_directory.is_dir():
            for directory in cloud.servers_directory.iterdir():
                cloud.delete_server(directory.name)
