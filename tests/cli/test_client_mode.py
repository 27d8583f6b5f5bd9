"""The ``kiln stack`` and ``kiln software`` commands in client mode, against a real ``kiln serve``.

The commands run as real processes with ``KILN_URL`` set (each test in a
project of its own); many journeys run the same commands in embedded mode
on an equivalent stack and compare the output, ids, times and generated
names replaced. A client never opens a database: its ``KILN_HOME`` is never
even made.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from api_support import Server
from cli_support import TIMESTAMP, UUID, Kiln, output
from stack_support import (
    BRIEF_WAIT_TEMPLATE,
    INVALID_TEMPLATE,
    LONG_WAIT_TEMPLATE,
    NESTED_CHILD,
    NESTED_PARENT,
    NONE_TEMPLATE,
    event_lines,
    finished,
    hooks_pause_until_cleared,
    signal_completes_a_waiting_create,
    wait_until_creating,
)

from kiln.cli.backend import Connection
from kiln.cli.remote import RemoteStacks

#: Everything the comparison looks at: typed and hidden parameters, a files map, outputs
#: (one that fails), metadata, dependencies.
COMPARED = """\
heat_template_version: 2018-08-31
description: Compared in both modes.
parameters:
  greeting: {type: string}
  password: {type: string, hidden: true}
  length: {type: number, default: 12}
  verbose: {type: boolean, default: true}
  settings: {type: json, default: {colour: blue}}
  names: {type: comma_delimited_list, default: "a,b"}
resources:
  nothing: {type: OS::Heat::None, metadata: {note: {get_param: greeting}}}
  message:
    type: OS::Heat::Value
    properties:
      value: {list_join: [' ', [{get_param: greeting}, {get_file: word.txt}]]}
  item:
    type: OS::Heat::TestResource
    depends_on: [nothing]
    properties: {value: {get_attr: [message, value]}}
outputs:
  said: {description: What was said., value: {get_attr: [message, value]}}
  item_output: {value: {get_attr: [item, output]}}
  broken: {value: {list_join: [',', {get_attr: [message, value]}]}}
"""

ENVIRONMENT = "parameter_defaults:\n  length: 7\n"

#: A stack whose update of ``item`` takes a couple of seconds.
SLOW_UPDATE = """\
heat_template_version: 2018-08-31
parameters:
  greeting: {type: string, default: hello}
resources:
  item:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: greeting}
      action_wait_secs: {update: 2}
  keep:
    type: OS::Heat::None
    depends_on: item
"""

#: Generated ids, and the random parts of generated names (``stack-resource-xxxxxxxx-xxx``).
_GENERATED = re.compile(rf"{UUID}|\b[0-9a-f]{{8}}-[0-9a-f]{{3}}\b|\b[0-9a-f]{{12}}\b")
_TIMES = re.compile(rf"{TIMESTAMP}|\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ| in \d+\.\ds")


def anonymous(text: str) -> str:
    """The text with ids and times replaced (they differ between any two stacks)."""
    return _TIMES.sub("<time>", _GENERATED.sub("<id>", text))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(home=tmp_path_factory.mktemp("kiln-serve"), log_level="info")
    running.start()
    yield running
    running.stop()


@pytest.fixture
def project() -> str:
    return f"p-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def client(tmp_path: Path, server: Server, project: str) -> Iterator[Kiln]:
    """The ``kiln`` command in client mode, in a project of its own."""
    runner = Kiln(
        home=tmp_path / "client-home",
        workdir=tmp_path,
        environ={"KILN_URL": server.url, "KILN_PROJECT": project},
    )
    yield runner
    assert not runner.home.exists(), "client mode made a local KILN_HOME"


@pytest.fixture
def embedded(kiln: Kiln, project: str) -> Kiln:
    """The ``kiln`` command in embedded mode, in the client's project and working directory."""
    kiln.environ["KILN_PROJECT"] = project
    return kiln


def both(embedded: Kiln, client: Kiln, *commands: Sequence[str]) -> list[str]:
    """Run each command in both modes, all at once (so independent commands only); each must
    give the same status and output (ids and times aside). The client's outputs, in order."""
    started = [
        (command, runner.start(*command)) for command in commands for runner in (embedded, client)
    ]
    results = []
    for command, process in started:
        stdout, stderr = process.communicate(timeout=60)
        results.append((command, process.returncode, stdout, stderr))
    shown = []
    for (command, *local), (_, *remote) in zip(results[::2], results[1::2], strict=True):
        assert [anonymous(part) if isinstance(part, str) else part for part in local] == [
            anonymous(part) if isinstance(part, str) else part for part in remote
        ], f"{command}: embedded {local} != client {remote}"
        shown.append(remote[1])
    return shown


def create_in_both(embedded: Kiln, client: Kiln, *arguments: str) -> list[str]:
    return both(embedded, client, ("stack", "create", *arguments, "--wait", "-f", "json"))


# -- the same output in both modes -------------------------------------------------------


def test_create_wait_and_every_read_command_match_embedded_mode(
    embedded: Kiln, client: Kiln, server: Server, project: str
) -> None:
    template = str(client.write("compared.yaml", COMPARED))
    client.write("word.txt", "world")
    environment = str(client.write("env.yaml", ENVIRONMENT))
    (created,) = create_in_both(
        embedded, client, "demo", "-t", template, "-e", environment,
        "--parameter", "greeting=hello", "--parameter", "password=s3cret",
    )  # fmt: skip
    shown = json.loads(created)
    assert shown["parameters"] == {
        "greeting": "hello",
        "password": "******",
        "length": 7,
        "verbose": True,
        "settings": {"colour": "blue"},
        "names": ["a", "b"],
        "OS::stack_id": shown["id"],
        "OS::stack_name": "demo",
        "OS::project_id": project,
    }
    assert [o.get("output_error") for o in shown["outputs"]] == [
        None,
        None,
        "list_join: the items to join must be given as a list",
    ]
    # --wait followed the server's live event stream.
    stream = f"GET /v1/{project}/stacks/demo/{shown['id']}/events/stream"
    assert stream in server.log()

    outputs = both(
        embedded,
        client,
        ("stack", "show", "demo"),
        ("stack", "show", "demo", "-f", "yaml"),
        ("stack", "show", "demo", "-f", "value"),
        ("stack", "list"),
        ("stack", "list", "--property", "name=demo", "-f", "json"),
        ("stack", "resource", "list", "demo"),
        ("stack", "resource", "list", "demo", "-f", "yaml"),
        ("stack", "resource", "show", "demo", "item", "-f", "json"),
        ("stack", "resource", "show", "demo", "nothing"),
        ("stack", "resource", "show", "demo", "nope"),
        ("stack", "resource", "metadata", "demo", "nothing"),
        ("stack", "output", "list", "demo"),
        ("stack", "output", "show", "demo", "said"),
        ("stack", "output", "show", "demo", "broken", "-f", "json"),
        ("stack", "output", "show", "demo", "nope"),
        ("stack", "event", "list", "demo"),
        ("stack", "event", "list", "demo", "-f", "json"),
        ("stack", "event", "list", "demo", "--resource", "item", "-f", "value"),
        ("stack", "template", "show", "demo"),
        ("stack", "environment", "show", "demo"),
        ("stack", "file", "show", "demo", "word.txt"),
        ("stack", "hook", "poll", "demo"),
        ("stack", "drift", "demo", "-f", "json"),
    )
    item = json.loads(outputs[7])
    assert (item["attributes"], item["required_by"]) == ({"output": "hello world"}, [])
    assert json.loads(outputs[10]) == {"note": "hello"}
    assert outputs[18] == COMPARED
    assert "s3cret" not in "".join(outputs)

    # As Heat does, the server keeps the environment files a client sends in the files map.
    files = client.data("stack", "file", "list", "demo")
    assert sorted(f["name"] for f in files) == sorted([environment, "word.txt"])

    (deleted,) = both(embedded, client, ("stack", "delete", "demo", "--wait", "-y"))
    (listed,) = both(embedded, client, ("stack", "list", "--deleted", "-f", "value"))
    assert (deleted, listed.split()[1:3]) == ("", ["demo", "DELETE_COMPLETE"])


def test_errors_match_embedded_mode(embedded: Kiln, client: Kiln) -> None:
    invalid = client.write("invalid.yaml", INVALID_TEMPLATE)
    template = str(client.write("brief.yaml", BRIEF_WAIT_TEMPLATE))
    bad_environment = str(client.write("bad-env.yaml", "unknown_section: {}\n"))
    create_in_both(embedded, client, "taken", "-t", template)
    both(
        embedded,
        client,
        ("stack", "create", "bad", "-t", str(invalid), "--wait"),
        ("stack", "create", "bad", "-t", template, "-e", bad_environment),
        ("stack", "create", "taken", "-t", template),
        ("stack", "update", "taken", "-t", str(invalid)),
        ("stack", "show", "nope"),
        ("stack", "output", "list", "nope"),
        ("stack", "delete", "nope", "-y"),
        ("stack", "resume", "taken"),
        ("stack", "cancel", "taken"),
        ("stack", "snapshot", "show", "taken", "nope"),
        ("stack", "resource", "signal", "taken", "nope", "--data", "{}"),
        ("stack", "resource", "metadata", "taken", "nope"),
        ("stack", "hook", "clear", "taken", "nope"),
    )
    run = client.run("stack", "create", "bad", "-t", str(invalid), "--wait")
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr.splitlines() == [
        f"{invalid}:6:15 R4002 resources.value.properties.value.get_param "
        "parameter 'missing' is not defined",
        f"{invalid}:9:18 R4008 resources.other.depends_on[0] "
        "depends on resource 'nope', which is not defined",
    ]
    missing = client.run("stack", "output", "list", "nope")
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        1,
        "",
        "Error: The Stack (nope) could not be found.\n",
    )


def test_update_tags_match_embedded_mode(embedded: Kiln, client: Kiln) -> None:
    template = str(client.write("none.yaml", NONE_TEMPLATE))
    create_in_both(embedded, client, "tagged", "-t", template, "--tags", "a,b")
    update = ("stack", "update", "tagged", "--wait", "-f", "json")
    # One at a time: each update must find the one before it over.
    (kept,) = both(embedded, client, (*update, "--existing"))
    assert json.loads(kept)["tags"] == ["a", "b"]
    (replaced,) = both(embedded, client, (*update, "--existing", "--tags", "c"))
    assert json.loads(replaced)["tags"] == ["c"]
    # As in Heat, a full update without tags leaves the stack with none.
    (cleared,) = both(embedded, client, (*update, "-t", template))
    assert json.loads(cleared)["tags"] == []


def test_updates_and_their_dry_runs_match_embedded_mode(embedded: Kiln, client: Kiln) -> None:
    first = str(client.write("first.yaml", SLOW_UPDATE))
    second = str(client.write("second.yaml", SLOW_UPDATE.replace("keep:", "other:")))
    create_in_both(embedded, client, "app", "-t", first)
    plans = both(
        embedded,
        client,
        ("stack", "update", "app", "--existing", "--parameter", "greeting=bye", "--dry-run"),
        ("stack", "update", "app", "-t", second, "--dry-run"),
        ("stack", "create", "other", "-t", second, "--dry-run"),
    )
    assert plans[0] == (
        "update             item (OS::Heat::TestResource): value changed\n"
        "same               keep (OS::Heat::None) [after item]\n"
    )
    (updated,) = both(
        embedded,
        client,
        (
            "stack",
            "update",
            "app",
            "--existing",
            "--parameter",
            "greeting=bye",
            "--wait",
            "-f",
            "json",
        ),
    )
    assert json.loads(updated)["stack_status"] == "UPDATE_COMPLETE"

    # A running update, followed from its start to its end.
    started = client.data("stack", "update", "app", "--existing", "--parameter", "greeting=hi")
    assert started["stack_status"] == "UPDATE_IN_PROGRESS"
    followed = client.run("stack", "event", "list", "app", "--follow", timeout=30)
    assert event_lines(output(followed))[-4:] == [
        ("app", "UPDATE_IN_PROGRESS", "Stack UPDATE started"),
        ("item", "UPDATE_IN_PROGRESS", "state changed"),
        ("item", "UPDATE_COMPLETE", "state changed"),
        ("app", "UPDATE_COMPLETE", "Stack UPDATE completed successfully"),
    ]
    assert client.data("stack", "show", "app")["parameters"]["greeting"] == "hi"


def test_actions_snapshots_and_transfer_match_embedded_mode(embedded: Kiln, client: Kiln) -> None:
    template = str(client.write("plain.yaml", NESTED_CHILD))
    create_in_both(embedded, client, "kept", "-t", template)
    states = [
        both(embedded, client, ("stack", verb, "kept", "--wait"))[0]
        for verb in ("suspend", "resume", "check")
    ]
    assert states == ["kept SUSPEND_COMPLETE\n", "kept RESUME_COMPLETE\n", "kept CHECK_COMPLETE\n"]
    both(embedded, client, ("stack", "resource", "list", "kept", "-f", "json"))
    (taken,) = both(
        embedded, client, ("stack", "snapshot", "create", "kept", "--name", "first", "--wait")
    )
    snapshot_id = re.search(UUID, taken)
    assert snapshot_id
    both(
        embedded,
        client,
        ("stack", "update", "kept", "--existing", "--parameter", "size=7", "--wait"),
    )
    listed, shown = both(
        embedded,
        client,
        ("stack", "snapshot", "list", "kept", "-f", "json"),
        ("stack", "snapshot", "show", "kept", "first", "-f", "yaml"),
    )
    assert [(s["name"], s["status"]) for s in json.loads(listed)] == [("first", "COMPLETE")]
    assert "resources:\n    disk:\n" in shown
    restored = client.run("stack", "snapshot", "restore", "kept", snapshot_id[0], "--wait")
    assert (restored.returncode, restored.stdout) == (0, "kept RESTORE_COMPLETE\n")
    assert client.data("stack", "output", "show", "kept", "size")["output_value"] == 1
    assert client.run("stack", "snapshot", "delete", "kept", "first").returncode == 0
    assert client.data("stack", "snapshot", "list", "kept") == []

    before = client.data("stack", "resource", "list", "kept")
    exported = json.loads(output(client.run("stack", "export", "kept")))
    assert exported["resources"]["disk"]["resource_id"] == before[0]["physical_resource_id"]
    abandoned = client.run("stack", "abandon", "kept", "--output-file", "kept.json")
    assert (abandoned.returncode, abandoned.stderr) == (0, "Data written to kept.json\n")
    assert client.run("stack", "show", "kept").returncode == 1
    adopted = client.data("stack", "adopt", "taken", "--adopt-file", "kept.json", "--wait")
    assert adopted["stack_status"] == "ADOPT_COMPLETE"
    after = client.data("stack", "resource", "list", "taken")
    assert [r["physical_resource_id"] for r in after] == [r["physical_resource_id"] for r in before]


def test_nested_stacks_and_their_previews_match_embedded_mode(embedded: Kiln, client: Kiln) -> None:
    client.write("volume.yaml", NESTED_CHILD)
    environment = str(client.write("env.yaml", "resource_registry:\n  My::Volume: volume.yaml\n"))
    template = str(client.write("parent.yaml", NESTED_PARENT))
    create_in_both(embedded, client, "deep", "-t", template, "-e", environment)
    changed = str(client.write("parent2.yaml", NESTED_PARENT.replace("size: 3", "size: 4")))
    resources, events, preview = both(
        embedded,
        client,
        ("stack", "resource", "list", "deep", "--nested-depth", "1"),
        ("stack", "event", "list", "deep", "--nested-depth", "1", "-f", "json"),
        ("stack", "update", "deep", "-t", changed, "-e", environment, "--dry-run", "--show-nested"),
    )
    assert "disk" in resources
    assert ("disk", "CREATE_COMPLETE") in [
        (e["resource_name"], e["resource_status"]) for e in json.loads(events)
    ]
    lines = preview.splitlines()
    assert lines[0].startswith("update             volume (My::Volume)")
    assert lines[1].startswith("nested stack deep/volume (deep-volume-")
    assert lines[2].startswith("  update             disk (OS::Heat::Value)")


def test_software_configs_match_embedded_mode(embedded: Kiln, client: Kiln) -> None:
    script = str(client.write("script.sh", "#!/bin/sh\necho hello\n"))
    (created,) = both(
        embedded,
        client,
        ("software", "config", "create", "web", "--config-file", script, "-f", "json"),
    )
    config_id = json.loads(created)["id"]
    assert client.data("software", "config", "show", config_id)["name"] == "web"
    listed, missing, deployments = both(
        embedded,
        client,
        ("software", "config", "list"),
        ("software", "config", "show", "nope"),
        ("software", "deployment", "list", "-f", "json"),
    )
    assert "web" in listed and deployments.strip() == "[]"
    assert missing == ""
    shown = client.run("software", "config", "show", config_id, "--config-only")
    assert output(shown) == "#!/bin/sh\necho hello\n\n"
    assert client.run("software", "config", "delete", config_id).returncode == 0
    assert client.data("software", "config", "list") == []


# -- client mode's own journeys ----------------------------------------------------------


def test_signals_and_hooks_reach_operations_the_server_runs(client: Kiln) -> None:
    signal_completes_a_waiting_create(client)
    hooks_pause_until_cleared(client)


def test_cancel_and_delete_while_the_server_runs_a_create(client: Kiln) -> None:
    template = str(client.write("long.yaml", LONG_WAIT_TEMPLATE))
    client.data("stack", "create", "busy", "-t", template)
    wait_until_creating(client, "busy")
    # An update would preempt the create (as in Heat); a check is refused.
    checked = client.run("stack", "check", "busy")
    assert (checked.returncode, checked.stdout, checked.stderr) == (
        1,
        "",
        "Error: Stack busy already has an action (CREATE) in progress.\n",
    )
    cancelled = client.run("stack", "cancel", "busy", "--wait", timeout=10)
    assert (cancelled.returncode, cancelled.stdout) == (0, "busy ROLLBACK_COMPLETE\n")
    assert re.fullmatch(
        finished("busy", "ROLLBACK_COMPLETE", "Stack ROLLBACK completed successfully"),
        cancelled.stderr,
    )
    client.data("stack", "create", "stuck", "-t", template)
    deleted = client.run("stack", "delete", "stuck", "--wait", "-y", timeout=10)
    assert re.fullmatch(
        finished("stuck", "DELETE_COMPLETE", "Stack DELETE completed successfully"),
        deleted.stderr,
    )
    assert [s["Stack Name"] for s in client.data("stack", "list")] == ["busy"]


def test_engine_commands_stay_embedded(client: Kiln) -> None:
    for command in (("engine", "recover"), ("engine", "run", str(uuid.uuid4()))):
        refused = client.run(*command)
        assert refused.returncode == 1
        assert refused.stderr.startswith(f"Error: kiln {command[0]} {command[1]} works on the")


def test_group_options_and_a_token_reach_a_server_that_checks_tokens(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    server = Server(home=tmp_path_factory.mktemp("kiln-token"), auth="token")
    server.start()
    try:
        issuer = Kiln(home=server.home, workdir=tmp_path)
        token = issuer.data("token", "create", "--project", "web", "--user", "alice")["token"]
        plain = Kiln(home=tmp_path / "client-home", workdir=tmp_path)
        template = str(plain.write("none.yaml", NESTED_CHILD))
        options = ("--url", server.url, "--project", "web")
        created = plain.run(
            "stack", *options, "--token", token, "create", "small", "-t", template, "--wait"
        )
        assert created.returncode == 0, created.stderr
        listed, refused, elsewhere = plain.run_all(
            [
                ("stack", *options, "--token", token, "list", "-f", "value"),
                ("stack", *options, "list"),
                ("stack", "--url", server.url, "--project", "other", "--token", token, "list"),
            ]
        )
        assert output(listed).split()[1:3] == ["small", "CREATE_COMPLETE"]
        assert (refused.returncode, refused.stderr) == (
            1,
            "Error: The request you have made requires authentication.\n",
        )
        assert (elsewhere.returncode, elsewhere.stderr) == (
            1,
            "Error: The token is not valid for project other.\n",
        )
        assert not plain.home.exists()
    finally:
        server.stop()


def test_an_unreachable_server_is_an_error_line(tmp_path: Path) -> None:
    client = Kiln(
        home=tmp_path / "client-home",
        workdir=tmp_path,
        environ={"KILN_URL": "http://127.0.0.1:9"},
    )
    run = client.run("stack", "list")
    assert run.returncode == 1
    assert run.stderr.startswith("Error: Cannot reach the Kiln server at http://127.0.0.1:9: ")
    assert len(run.stderr.splitlines()) == 1


def test_waiting_shows_progress_from_the_live_event_stream(
    client: Kiln, server: Server, project: str
) -> None:
    template = str(client.write("brief.yaml", BRIEF_WAIT_TEMPLATE))
    client.data("stack", "create", "flow", "-t", template)
    stacks = RemoteStacks.connect(Connection(server.url, None, project))
    seen: list[list[tuple[str, str]]] = []
    final = stacks.wait(
        stacks.get("flow"), lambda records: seen.append([(r.name, r.state) for r in records])
    )
    assert (final.name, final.state) == ("flow", "CREATE_COMPLETE")
    assert seen[0] == []
    assert [("slow", "CREATE_IN_PROGRESS")] in seen
    assert seen[-1] == [("slow", "CREATE_COMPLETE"), ("after", "CREATE_COMPLETE")]
