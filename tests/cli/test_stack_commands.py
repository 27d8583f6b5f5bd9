"""The ``kiln stack`` and ``kiln engine`` commands, run as real processes in embedded mode.

Every test gets its own ``KILN_HOME`` (so its own SQLite database); detached
``kiln engine run`` processes a test leaves behind are found by that home and
stopped when it ends. Independent commands run concurrently to keep the file
fast: each process pays about a second of imports.
"""

from __future__ import annotations

import json
import re
import time

import yaml
from cli_support import TIMESTAMP, UUID, Kiln, output
from stack_support import (
    BRIEF_WAIT_TEMPLATE,
    BROKEN,
    CREATE_TEMPLATE,
    FAILING_TEMPLATE,
    INVALID_TEMPLATE,
    LONG_WAIT_TEMPLATE,
    NESTED_CHILD,
    NESTED_PARENT,
    NONE_TEMPLATE,
    PASSWORD,
    UPDATE_TEMPLATE,
    event_lines,
    finished,
    hooks_pause_until_cleared,
    shown_without_identity,
    signal_completes_a_waiting_create,
    table_rows,
    wait_until_creating,
)

# -- create and read -------------------------------------------------------------------


def test_create_waits_and_shows_outputs_with_hidden_parameters_masked(kiln: Kiln) -> None:
    template = kiln.write("stack.yaml", CREATE_TEMPLATE)
    created = kiln.run(
        "stack", "create", "demo", "-t", str(template), "--parameter", "greeting=hello",
        "--parameter", f"password={PASSWORD}", "--wait", "-f", "json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert re.fullmatch(
        finished("demo", "CREATE_COMPLETE", "Stack CREATE completed successfully"), created.stderr
    )
    shown = json.loads(created.stdout)
    token = shown["outputs"][2]["output_value"]
    assert re.fullmatch(r"[A-Za-z0-9]{12}", token)
    assert shown_without_identity(shown) == {
        "stack_name": "demo",
        "stack_status": "CREATE_COMPLETE",
        "stack_status_reason": "Stack CREATE completed successfully",
        "parameters": {
            "greeting": "hello",
            "password": "******",
            "length": 12,
            "OS::stack_name": "demo",
            "OS::project_id": "default",
        },
        "outputs": [
            {
                "output_key": "message",
                "output_value": "hello world",
                "description": "The greeting.",
            },
            {
                "output_key": "item_output",
                "output_value": "hello world",
                "description": "No description given",
            },
            {"output_key": "token", "output_value": token, "description": "No description given"},
            {
                "output_key": "broken",
                "output_value": None,
                "description": "Joins a string, which is not a list.",
                "output_error": "list_join: the items to join must be given as a list",
            },
        ],
        "disable_rollback": False,
        "timeout_mins": None,
        "tags": [],
    }

    as_yaml, as_value, resources, item, outputs, broken, source = kiln.run_all(
        [
            ("stack", "show", "demo", "-f", "yaml"),
            ("stack", "show", "demo", "-f", "value"),
            ("stack", "resource", "list", "demo", "-f", "json"),
            ("stack", "resource", "show", "demo", "item", "-f", "json"),
            ("stack", "output", "list", "demo", "-f", "json"),
            ("stack", "output", "show", "demo", "broken", "-f", "json"),
            ("stack", "template", "show", "demo"),
        ]
    )
    everything = [created, as_yaml, as_value, resources, item, outputs, broken, source]
    assert all(run.returncode == 0 for run in everything), [run.stderr for run in everything]
    assert not any(PASSWORD in run.stdout + run.stderr for run in everything)

    assert yaml.safe_load(as_yaml.stdout) == shown
    assert "  password: '******'" in as_yaml.stdout.splitlines()

    values = as_value.stdout.splitlines()
    assert values[:6] == [
        shown["id"],
        "demo",
        shown["creation_time"],
        shown["updated_time"],
        "CREATE_COMPLETE",
        "Stack CREATE completed successfully",
    ]
    assert values[-3:] == ["False", "None", "[]"]
    assert '  "password": "******"' in values

    listed = json.loads(resources.stdout)
    assert [(r["resource_name"], r["resource_type"], r["resource_status"]) for r in listed] == [
        ("item", "OS::Heat::TestResource", "CREATE_COMPLETE"),
        ("message", "OS::Heat::Value", "CREATE_COMPLETE"),
        ("nothing", "OS::Heat::None", "CREATE_COMPLETE"),
        ("token", "OS::Heat::RandomString", "CREATE_COMPLETE"),
    ]
    assert re.fullmatch(r"demo-item-[0-9a-f]{8}-[0-9a-f]{3}", listed[0]["physical_resource_id"])
    assert re.fullmatch(UUID, listed[2]["physical_resource_id"])

    item_shown = json.loads(item.stdout)
    assert re.fullmatch(TIMESTAMP, item_shown.pop("creation_time"))
    assert re.fullmatch(TIMESTAMP, item_shown.pop("updated_time"))
    assert item_shown == {
        "resource_name": "item",
        "physical_resource_id": listed[0]["physical_resource_id"],
        "resource_type": "OS::Heat::TestResource",
        "resource_status": "CREATE_COMPLETE",
        "resource_status_reason": "state changed",
        "attributes": {"output": "hello world"},
        "required_by": [],
    }

    assert json.loads(outputs.stdout) == [
        {"output_key": "message", "description": "The greeting."},
        {"output_key": "item_output", "description": "No description given"},
        {"output_key": "token", "description": "No description given"},
        {"output_key": "broken", "description": "Joins a string, which is not a list."},
    ]
    assert json.loads(broken.stdout) == shown["outputs"][3]
    assert source.stdout == CREATE_TEMPLATE


def test_list_filters_sorts_and_pages(kiln: Kiln) -> None:
    template = str(kiln.write("none.yaml", NONE_TEMPLATE))
    ids = {}
    for name in ("bravo", "alpha", "charlie"):
        ids[name] = kiln.data("stack", "create", name, "-t", template, "--wait")["id"]

    table, named, descending, page = kiln.run_all(
        [
            ("stack", "list"),
            ("stack", "list", "--property", "name=alpha", "-f", "json"),
            ("stack", "list", "--sort", "name:desc", "-f", "value"),
            ("stack", "list", "--sort", "name", "--limit", "1", "--marker", ids["alpha"]),
        ]
    )
    rows = table_rows(output(table))
    assert rows[0] == ["ID", "Stack Name", "Stack Status", "Creation Time", "Updated Time"]
    assert [row[:3] for row in rows[1:]] == [
        [ids["charlie"], "charlie", "CREATE_COMPLETE"],
        [ids["alpha"], "alpha", "CREATE_COMPLETE"],
        [ids["bravo"], "bravo", "CREATE_COMPLETE"],
    ]
    assert all(re.fullmatch(TIMESTAMP, cell) for row in rows[1:] for cell in row[3:])

    (alpha,) = json.loads(output(named))
    assert set(alpha) == {"ID", "Stack Name", "Stack Status", "Creation Time", "Updated Time"}
    assert (alpha["ID"], alpha["Stack Name"], alpha["Stack Status"]) == (
        ids["alpha"],
        "alpha",
        "CREATE_COMPLETE",
    )

    lines = output(descending).splitlines()
    assert len(lines) == 3
    for line, name in zip(lines, ("charlie", "bravo", "alpha"), strict=True):
        assert re.fullmatch(rf"{ids[name]} {name} CREATE_COMPLETE {TIMESTAMP} {TIMESTAMP}", line)
    assert [row[:2] for row in table_rows(output(page))[1:]] == [[ids["bravo"], "bravo"]]


# -- detached runs, following, conflicts, cancel ----------------------------------------


def test_create_without_wait_returns_at_once_and_the_detached_engine_finishes(
    kiln: Kiln,
) -> None:
    template = str(kiln.write("brief.yaml", BRIEF_WAIT_TEMPLATE))
    started = kiln.data("stack", "create", "flow", "-t", template)
    assert (started["stack_status"], started["stack_status_reason"], started["outputs"]) == (
        "CREATE_IN_PROGRESS",
        "Stack CREATE started",
        [],
    )

    followed = kiln.run("stack", "event", "list", "flow", "--follow", timeout=30)
    assert followed.returncode == 0, followed.stderr
    assert event_lines(followed.stdout) == [
        ("flow", "CREATE_IN_PROGRESS", "Stack CREATE started"),
        ("slow", "CREATE_IN_PROGRESS", "state changed"),
        ("slow", "CREATE_COMPLETE", "state changed"),
        ("after", "CREATE_IN_PROGRESS", "state changed"),
        ("after", "CREATE_COMPLETE", "state changed"),
        ("flow", "CREATE_COMPLETE", "Stack CREATE completed successfully"),
    ]

    shown = kiln.wait_for_status("flow", "CREATE_COMPLETE", timeout=10)
    assert shown["stack_status_reason"] == "Stack CREATE completed successfully"
    of_slow = kiln.data("stack", "event", "list", "flow", "--resource", "slow")
    assert [
        (e["resource_name"], e["resource_status"], e["resource_status_reason"]) for e in of_slow
    ] == [
        ("slow", "CREATE_IN_PROGRESS", "state changed"),
        ("slow", "CREATE_COMPLETE", "state changed"),
    ]
    assert all(
        re.fullmatch(UUID, e["id"]) and re.fullmatch(TIMESTAMP, e["event_time"]) for e in of_slow
    )
    kiln.wait_for_engines_to_exit()


def test_second_operation_is_refused_and_cancel_without_rollback_fails_the_create(
    kiln: Kiln,
) -> None:
    template = str(kiln.write("long.yaml", LONG_WAIT_TEMPLATE))
    assert kiln.data("stack", "create", "busy", "-t", template)["stack_status"] == (
        "CREATE_IN_PROGRESS"
    )
    # An update would preempt the create (as in Heat); a check is refused.
    checked = kiln.run("stack", "check", "busy")
    assert (checked.returncode, checked.stdout, checked.stderr) == (
        1,
        "",
        "Error: Stack busy already has an action (CREATE) in progress.\n",
    )

    cancelled = kiln.run("stack", "cancel", "busy", "--no-rollback")
    assert (cancelled.returncode, cancelled.stdout) == (0, "busy CREATE_FAILED\n")
    shown, events = kiln.run_all(
        [
            ("stack", "show", "busy", "-f", "json"),
            ("stack", "event", "list", "busy", "--resource", "busy"),
        ]
    )
    assert shown.returncode == 0, shown.stderr
    stack = json.loads(shown.stdout)
    assert (stack["stack_status"], stack["stack_status_reason"]) == (
        "CREATE_FAILED",
        "Stack CREATE cancelled",
    )
    assert event_lines(output(events)) == [
        ("busy", "CREATE_IN_PROGRESS", "Stack CREATE started"),
        ("busy", "CREATE_FAILED", "Stack CREATE cancelled"),
    ]


def test_delete_takes_over_a_create_in_progress(kiln: Kiln) -> None:
    template = str(kiln.write("long.yaml", LONG_WAIT_TEMPLATE))
    kiln.data("stack", "create", "stuck", "-t", template)
    wait_until_creating(kiln, "stuck")
    deleted = kiln.run("stack", "delete", "stuck", "--wait", "-y", timeout=10)
    assert deleted.returncode == 0, deleted.stderr
    assert re.fullmatch(
        finished("stuck", "DELETE_COMPLETE", "Stack DELETE completed successfully"),
        deleted.stderr,
    )
    again = kiln.run("stack", "delete", "stuck", "-y")
    assert (again.returncode, again.stderr) == (1, "The Stack (stuck) could not be found.\n")
    kiln.wait_for_engines_to_exit()


def test_cancel_rolls_back_and_recover_resumes_it_after_the_engine_dies(kiln: Kiln) -> None:
    kiln.environ["KILN_ENGINE_LEASE_SECONDS"] = "1"
    template = str(kiln.write("long.yaml", LONG_WAIT_TEMPLATE))
    kiln.data("stack", "create", "doomed", "-t", template)
    wait_until_creating(kiln, "doomed")

    cancelled = kiln.run("stack", "cancel", "doomed")
    assert (cancelled.returncode, cancelled.stdout) == (0, "doomed ROLLBACK_IN_PROGRESS\n")
    kiln.kill_engines()
    time.sleep(1.2)  # until the dead engine's lease has expired

    # The engine may have finished the rollback before it was killed (a cancel
    # interrupts the waiting step at once); if not, recovery finishes it.
    recovered = kiln.run("engine", "recover")
    assert recovered.returncode == 0
    assert recovered.stdout in ("", "doomed ROLLBACK_COMPLETE\n")
    # An engine the kill did not reach (one still starting) may hold the stack instead
    # of recovery; either way the rollback ends, once, with the same events.
    kiln.wait_for_status("doomed", "ROLLBACK_COMPLETE", timeout=30)
    events = kiln.run("stack", "event", "list", "doomed")
    # A kill that lands while the delete runs leaves it to recovery, which starts it
    # again: its DELETE_IN_PROGRESS then appears twice in a row, and only that.
    lines = event_lines(output(events))
    assert [line for n, line in enumerate(lines) if n == 0 or lines[n - 1] != line] == [
        ("doomed", "CREATE_IN_PROGRESS", "Stack CREATE started"),
        ("slow", "CREATE_IN_PROGRESS", "state changed"),
        ("doomed", "ROLLBACK_IN_PROGRESS", "Stack cancelled"),
        ("slow", "DELETE_IN_PROGRESS", "state changed"),
        ("slow", "DELETE_COMPLETE", "state changed"),
        ("doomed", "ROLLBACK_COMPLETE", "Stack ROLLBACK completed successfully"),
    ]


def test_cancel_interrupts_the_create_in_progress(kiln: Kiln) -> None:
    template = str(kiln.write("long.yaml", LONG_WAIT_TEMPLATE))
    kiln.data("stack", "create", "doomed", "-t", template)
    wait_until_creating(kiln, "doomed")
    # --wait follows the detached engine, which should roll back in a moment, not a minute.
    cancelled = kiln.run("stack", "cancel", "doomed", "--wait", timeout=5)
    assert (cancelled.returncode, cancelled.stdout) == (0, "doomed ROLLBACK_COMPLETE\n")
    assert re.fullmatch(
        finished("doomed", "ROLLBACK_COMPLETE", "Stack ROLLBACK completed successfully"),
        cancelled.stderr,
    )


# -- update ------------------------------------------------------------------------------


def test_update_in_place_with_existing_and_by_replacement_and_dry_runs(kiln: Kiln) -> None:
    first = kiln.write("first.yaml", UPDATE_TEMPLATE)
    second = kiln.write("second.yaml", UPDATE_TEMPLATE.replace("value: first", "value: second"))
    kiln.data("stack", "create", "app", "-t", str(first), "--wait")

    in_place_plan, replacement_plan = kiln.run_all(
        [
            ("stack", "update", "app", "--existing", "--parameter", "greeting=bye", "--dry-run"),
            ("stack", "update", "app", "-t", str(second), "--dry-run"),
        ]
    )
    assert (in_place_plan.returncode, in_place_plan.stdout) == (
        0,
        "update             item (OS::Heat::TestResource): value changed\n"
        "same               keep (OS::Heat::None) [after item]\n",
    )
    assert (replacement_plan.returncode, replacement_plan.stdout) == (
        0,
        "create-replacement item(new) (OS::Heat::TestResource): "
        "update_replace_value cannot be updated in place\n"
        "same               keep (OS::Heat::None) [after item(new)]\n"
        "delete-replaced    item(old) (OS::Heat::TestResource): "
        "replaced [after item(new), keep]\n",
    )

    patched = kiln.run(
        "stack", "update", "app", "--existing", "--parameter", "greeting=bye", "--wait",
        "-f", "json",
    )  # fmt: skip
    assert patched.returncode == 0, patched.stderr
    assert re.fullmatch(
        finished("app", "UPDATE_COMPLETE", "Stack UPDATE completed successfully"), patched.stderr
    )
    after_patch = json.loads(patched.stdout)
    assert after_patch["parameters"]["greeting"] == "bye"
    assert after_patch["outputs"] == [
        {"output_key": "item_output", "output_value": "bye", "description": "No description given"}
    ]

    # A full update (PUT) forgets the parameters not given again: greeting is back to its default.
    replaced = kiln.data("stack", "update", "app", "-t", str(second), "--wait")
    assert (replaced["stack_status"], replaced["parameters"]["greeting"]) == (
        "UPDATE_COMPLETE",
        "hello",
    )
    assert replaced["outputs"][0]["output_value"] == "hello"

    events, resources = kiln.run_all(
        [("stack", "event", "list", "app"), ("stack", "resource", "list", "app", "-f", "json")]
    )
    # The dry runs left no trace: only the create and the two updates happened.
    assert [(name, state) for name, state, _ in event_lines(output(events))] == [
        ("app", "CREATE_IN_PROGRESS"),
        ("item", "CREATE_IN_PROGRESS"),
        ("item", "CREATE_COMPLETE"),
        ("keep", "CREATE_IN_PROGRESS"),
        ("keep", "CREATE_COMPLETE"),
        ("app", "CREATE_COMPLETE"),
        ("app", "UPDATE_IN_PROGRESS"),
        ("item", "UPDATE_IN_PROGRESS"),
        ("item", "UPDATE_COMPLETE"),
        ("app", "UPDATE_COMPLETE"),
        ("app", "UPDATE_IN_PROGRESS"),
        ("item", "CREATE_IN_PROGRESS"),
        ("item", "CREATE_COMPLETE"),
        ("item", "DELETE_IN_PROGRESS"),
        ("item", "DELETE_COMPLETE"),
        ("app", "UPDATE_COMPLETE"),
    ]
    assert [(r["resource_name"], r["resource_status"]) for r in json.loads(output(resources))] == [
        ("item", "CREATE_COMPLETE"),
        ("keep", "CREATE_COMPLETE"),
    ]


# -- failure, delete, invalid input, recovery --------------------------------------------


def test_failed_create_rolls_back_or_stays_failed_and_delete_removes_stacks(kiln: Kiln) -> None:
    template = str(kiln.write("fail.yaml", FAILING_TEMPLATE))
    reason = f"Resource CREATE failed: {BROKEN}"
    rolled_back = kiln.run("stack", "create", "rb", "-t", template, "--wait", "-f", "json")
    kept = kiln.run(
        "stack", "create", "kept", "-t", template, "--wait", "--disable-rollback", "-f", "json"
    )
    assert rolled_back.returncode == 1
    assert re.fullmatch(
        finished("rb", "ROLLBACK_COMPLETE", "Stack ROLLBACK completed successfully"),
        rolled_back.stderr,
    )
    shown = json.loads(rolled_back.stdout)
    assert (shown["stack_status"], shown["stack_status_reason"]) == (
        "ROLLBACK_COMPLETE",
        "Stack ROLLBACK completed successfully",
    )
    assert kept.returncode == 1
    assert re.fullmatch(finished("kept", "CREATE_FAILED", reason), kept.stderr)
    failed = json.loads(kept.stdout)
    assert (failed["stack_status"], failed["stack_status_reason"]) == ("CREATE_FAILED", reason)

    events, broken = kiln.run_all(
        [
            ("stack", "event", "list", "rb"),
            ("stack", "resource", "show", "kept", "broken", "-f", "json"),
        ]
    )
    lines = event_lines(output(events))
    assert lines[:7] == [
        ("rb", "CREATE_IN_PROGRESS", "Stack CREATE started"),
        ("fine", "CREATE_IN_PROGRESS", "state changed"),
        ("fine", "CREATE_COMPLETE", "state changed"),
        ("broken", "CREATE_IN_PROGRESS", "state changed"),
        ("broken", "CREATE_FAILED", BROKEN),
        ("rb", "CREATE_FAILED", reason),
        ("rb", "ROLLBACK_IN_PROGRESS", "rollback started"),
    ]
    # The order of the two deletes is test_rollback_deletes_dependents_first's business.
    assert sorted(lines[7:11]) == [
        ("broken", "DELETE_COMPLETE", "state changed"),
        ("broken", "DELETE_IN_PROGRESS", "state changed"),
        ("fine", "DELETE_COMPLETE", "state changed"),
        ("fine", "DELETE_IN_PROGRESS", "state changed"),
    ]
    assert lines[11:] == [("rb", "ROLLBACK_COMPLETE", "Stack ROLLBACK completed successfully")]
    resource = json.loads(output(broken))
    assert (
        resource["resource_status"],
        resource["resource_status_reason"],
        resource["physical_resource_id"],
    ) == ("CREATE_FAILED", BROKEN, None)

    deleted = kiln.run("stack", "delete", "kept", "--wait", "-y")
    assert deleted.returncode == 0, deleted.stderr
    assert re.fullmatch(
        finished("kept", "DELETE_COMPLETE", "Stack DELETE completed successfully"), deleted.stderr
    )
    listed, unknown = kiln.run_all(
        [("stack", "list", "-f", "json"), ("stack", "delete", "nope", "--wait", "-y")]
    )
    assert [item["Stack Name"] for item in json.loads(output(listed))] == ["rb"]
    assert (unknown.returncode, unknown.stdout, unknown.stderr) == (
        1,
        "",
        "The Stack (nope) could not be found.\n",
    )


def test_rollback_deletes_dependents_first(kiln: Kiln) -> None:
    slow_delete = FAILING_TEMPLATE + "      action_wait_secs: {delete: 1}\n"
    template = str(kiln.write("fail.yaml", slow_delete))
    assert kiln.run("stack", "create", "rb", "-t", template, "--wait").returncode == 1
    events = kiln.run("stack", "event", "list", "rb")
    deletes = [(name, state) for name, state, _ in event_lines(output(events)) if "DELETE" in state]
    assert deletes == [
        ("broken", "DELETE_IN_PROGRESS"),
        ("broken", "DELETE_COMPLETE"),
        ("fine", "DELETE_IN_PROGRESS"),
        ("fine", "DELETE_COMPLETE"),
    ]


def test_invalid_template_is_reported_by_location_and_creates_nothing(kiln: Kiln) -> None:
    template = kiln.write("invalid.yaml", INVALID_TEMPLATE)
    run = kiln.run("stack", "create", "bad", "-t", str(template), "--wait")
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr.splitlines() == [
        f"{template}:6:15 R4002 resources.value.properties.value.get_param "
        "parameter 'missing' is not defined",
        f"{template}:9:18 R4008 resources.other.depends_on[0] "
        "depends on resource 'nope', which is not defined",
    ]
    listed, recovered, unknown = kiln.run_all(
        [
            ("stack", "list", "--deleted", "-f", "json"),
            ("engine", "recover"),
            ("stack", "output", "list", "bad"),
        ]
    )
    assert (listed.returncode, json.loads(listed.stdout)) == (0, [])
    assert (recovered.returncode, recovered.stdout, recovered.stderr) == (0, "", "")
    assert (unknown.returncode, unknown.stdout, unknown.stderr) == (
        1,
        "",
        "Error: The Stack (bad) could not be found.\n",
    )


# -- nested stacks -------------------------------------------------------------------------


def test_provider_template_runs_as_a_nested_stack_listed_with_nested_depth(kiln: Kiln) -> None:
    kiln.write("volume.yaml", NESTED_CHILD)
    environment = str(kiln.write("env.yaml", "resource_registry:\n  My::Volume: volume.yaml\n"))
    template = str(kiln.write("parent.yaml", NESTED_PARENT))
    created = kiln.run("stack", "create", "outer", "-t", template, "-e", environment, "--wait")
    assert created.returncode == 0, created.stderr
    assert kiln.data("stack", "output", "show", "outer", "size")["output_value"] == 3

    flat = kiln.data("stack", "resource", "list", "outer")
    assert [(r["resource_name"], r["resource_type"]) for r in flat] == [("volume", "My::Volume")]
    nested = kiln.data("stack", "resource", "list", "outer", "--nested-depth", "1")
    child_name = next(r["stack_name"] for r in nested if r["resource_name"] == "disk")
    assert child_name.startswith("outer-volume-")
    assert [(r["stack_name"], r["resource_name"], r["resource_status"]) for r in nested] == [
        ("outer", "volume", "CREATE_COMPLETE"),
        (child_name, "disk", "CREATE_COMPLETE"),
    ]
    events = kiln.data("stack", "event", "list", "outer", "--nested-depth", "1")
    assert (child_name, "disk", "CREATE_COMPLETE") in [
        (e["stack_name"], e["resource_name"], e["resource_status"]) for e in events
    ]
    assert [s["Stack Name"] for s in kiln.data("stack", "list")] == ["outer"]

    deleted = kiln.run("stack", "delete", "outer", "--wait", "-y")
    assert deleted.returncode == 0, deleted.stderr
    assert kiln.data("stack", "list") == []


# -- signals ---------------------------------------------------------------------------------


def test_a_signal_from_the_command_line_completes_a_waiting_create(kiln: Kiln) -> None:
    signal_completes_a_waiting_create(kiln)
    kiln.wait_for_engines_to_exit()


# -- suspend, resume, check -----------------------------------------------------------------


def test_suspend_resume_and_check_from_the_command_line(kiln: Kiln) -> None:
    template = str(kiln.write("plain.yaml", BRIEF_WAIT_TEMPLATE))
    assert kiln.run("stack", "create", "idle", "-t", template, "--wait").returncode == 0
    not_suspended = kiln.run("stack", "resume", "idle")
    assert (not_suspended.returncode, not_suspended.stderr) == (
        1,
        "Error: Resume of stack idle is not supported in state CREATE_COMPLETE: "
        "it is not suspended.\n",
    )
    for verb, state in (("suspend", "SUSPEND_COMPLETE"), ("resume", "RESUME_COMPLETE")):
        done = kiln.run("stack", verb, "idle", "--wait")
        assert (done.returncode, done.stdout) == (0, f"idle {state}\n"), done.stderr
    checked = kiln.run("stack", "check", "idle", "--wait")
    assert (checked.returncode, checked.stdout) == (0, "idle CHECK_COMPLETE\n")
    resources = kiln.data("stack", "resource", "list", "idle")
    assert {r["resource_status"] for r in resources} == {"CHECK_COMPLETE"}


def test_drift_reports_each_resource(kiln: Kiln) -> None:
    template = str(kiln.write("plain.yaml", BRIEF_WAIT_TEMPLATE))
    assert kiln.run("stack", "create", "steady", "-t", template, "--wait").returncode == 0
    rows = kiln.data("stack", "drift", "steady")
    assert {(r["resource_name"], r["drift_status"], r["differences"]) for r in rows} == {
        (name, "IN_SYNC", "") for name in ("after", "slow")
    }
    converged = kiln.run("stack", "update", "steady", "--existing", "--converge", "--wait")
    assert converged.returncode == 0, converged.stderr


def test_environment_files_and_resource_health_from_the_command_line(kiln: Kiln) -> None:
    kiln.write("volume.yaml", NESTED_CHILD)
    environment = str(kiln.write("env.yaml", "resource_registry:\n  My::Volume: volume.yaml\n"))
    template = str(kiln.write("parent.yaml", NESTED_PARENT))
    created = kiln.run("stack", "create", "inspected", "-t", template, "-e", environment, "--wait")
    assert created.returncode == 0, created.stderr
    shown = kiln.data("stack", "environment", "show", "inspected")
    assert shown["resource_registry"] == {"My::Volume": "volume.yaml"}
    files = kiln.data("stack", "file", "list", "inspected")
    assert [f["name"] for f in files] == ["volume.yaml"]
    content = kiln.run("stack", "file", "show", "inspected", "volume.yaml")
    assert content.stdout == NESTED_CHILD
    marked = kiln.run("stack", "resource", "mark", "unhealthy", "inspected", "volume", "broken")
    assert marked.returncode == 0, marked.stderr
    resource = kiln.data("stack", "resource", "show", "inspected", "volume")
    assert (resource["resource_status"], resource["resource_status_reason"]) == (
        "CHECK_FAILED",
        "broken",
    )


# -- hooks -----------------------------------------------------------------------------------


def test_hook_poll_and_clear_from_the_command_line(kiln: Kiln) -> None:
    hooks_pause_until_cleared(kiln)
    kiln.wait_for_engines_to_exit()


NESTED_CHILD_CHANGED = NESTED_CHILD.replace("  disk:", "  extra: {type: OS::Heat::None}\n  disk:")


def test_update_dry_run_shows_nested_plans(kiln: Kiln) -> None:
    kiln.write("volume.yaml", NESTED_CHILD)
    environment = str(kiln.write("env.yaml", "resource_registry:\n  My::Volume: volume.yaml\n"))
    template = str(kiln.write("parent.yaml", NESTED_PARENT))
    created = kiln.run("stack", "create", "deep", "-t", template, "-e", environment, "--wait")
    assert created.returncode == 0, created.stderr
    kiln.write("volume.yaml", NESTED_CHILD_CHANGED)
    changed = str(kiln.write("parent2.yaml", NESTED_PARENT.replace("size: 3", "size: 4")))
    preview = kiln.run(
        "stack", "update", "deep", "-t", changed, "-e", environment, "--dry-run", "--show-nested"
    )
    assert preview.returncode == 0, preview.stderr
    lines = preview.stdout.splitlines()
    assert lines[0].startswith("update             volume (My::Volume)")
    assert lines[1].startswith("nested stack deep/volume (deep-volume-")
    assert sorted(line.split()[0:2] for line in lines[2:]) == [
        ["create", "extra"],
        ["update", "disk"],
    ]
    assert all(line.startswith("  ") for line in lines[2:])
    shown = kiln.data("stack", "show", "deep")
    assert shown["stack_status"] == "CREATE_COMPLETE"


def test_snapshot_commands(kiln: Kiln) -> None:
    template = str(kiln.write("plain.yaml", NESTED_CHILD))
    assert kiln.run("stack", "create", "kept", "-t", template, "--wait").returncode == 0
    taken = kiln.data("stack", "snapshot", "create", "kept", "--name", "first", "--wait")
    assert (taken["name"], taken["status"]) == ("first", "COMPLETE")
    changed = kiln.run("stack", "update", "kept", "--existing", "--parameter", "size=7", "--wait")
    assert changed.returncode == 0, changed.stderr
    listed = kiln.data("stack", "snapshot", "list", "kept")
    assert [(s["id"], s["name"], s["status"]) for s in listed] == [
        (taken["id"], "first", "COMPLETE")
    ]
    shown = kiln.data("stack", "snapshot", "show", "kept", "first")
    assert shown["data"]["resources"]["disk"]["type"] == "OS::Heat::Value"
    restored = kiln.run("stack", "snapshot", "restore", "kept", taken["id"], "--wait")
    assert (restored.returncode, restored.stdout) == (0, "kept RESTORE_COMPLETE\n")
    outputs = kiln.data("stack", "output", "show", "kept", "size")
    assert outputs["output_value"] == 1
    assert kiln.run("stack", "snapshot", "delete", "kept", "first").returncode == 0
    assert kiln.data("stack", "snapshot", "list", "kept") == []
    missing = kiln.run("stack", "snapshot", "show", "kept", "first")
    assert (missing.returncode, missing.stderr) == (
        1,
        "Error: The Snapshot (first) could not be found.\n",
    )


def test_export_abandon_and_adopt_commands(kiln: Kiln) -> None:
    template = str(kiln.write("plain.yaml", NESTED_CHILD))
    assert kiln.run("stack", "create", "given", "-t", template, "--wait").returncode == 0
    before = kiln.data("stack", "resource", "list", "given")
    exported = json.loads(kiln.run("stack", "export", "given").stdout)
    assert exported["resources"]["disk"]["resource_id"] == before[0]["physical_resource_id"]
    abandoned = kiln.run("stack", "abandon", "given", "--output-file", "given.json")
    assert abandoned.returncode == 0, abandoned.stderr
    assert kiln.run("stack", "show", "given").returncode == 1
    adopted = kiln.run("stack", "adopt", "taken", "--adopt-file", "given.json", "--wait")
    assert adopted.returncode == 0, adopted.stderr
    shown = kiln.data("stack", "show", "taken")
    assert shown["stack_status"] == "ADOPT_COMPLETE"
    after = kiln.data("stack", "resource", "list", "taken")
    assert [r["physical_resource_id"] for r in after] == [r["physical_resource_id"] for r in before]
    broken = kiln.write("broken.json", json.dumps({"template": {}, "resources": []}))
    refused = kiln.run("stack", "adopt", "other", "--adopt-file", str(broken))
    assert refused.returncode == 1
    assert "adopt data.resources: must be an object" in refused.stderr
    # The file is read as the API reads a request's adopt data.
    garbled = kiln.write("garbled.json", "{not json")
    refused = kiln.run("stack", "adopt", "other", "--adopt-file", str(garbled))
    assert refused.returncode == 1
    assert "Error: Invalid adopt data: Expecting property name" in refused.stderr
