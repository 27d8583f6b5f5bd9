"""Heat's functional tests (``heat_integrationtests.functional``) against a real ``kiln serve``.

Run through ``scripts/heat-functional``, with the Python of the Heat venv (``scripts/heat-venv``):
it needs only the standard library and that venv's stestr, subunit and testtools. Kiln itself
runs in a separate process with Kiln's own Python.

It starts ``kiln serve --auth none`` on a free port with a KILN_HOME of its own, writes a tempest
config whose ``[heat_plugin]`` section points at dummy credentials (``OS_NO_CLIENT_AUTH=True``
makes the tests talk to ``HEAT_URL`` without Keystone), runs the tests with stestr, stops the
server and compares the results with ``heat_functional_expected.txt``: one line per test id that
is expected not to pass, ``TEST_ID # reason``. The exit status is 1 when a test that is not on
that list fails; tests on the list that pass now are printed, so that the list stays honest
(``--strict`` makes them fail the run too, ``--update-expected`` rewrites the list).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXPECTED = HERE / "heat_functional_expected.txt"
PROJECT = "functional"
PREFIX = "heat_integrationtests.functional."
FAILED = frozenset({"fail", "uxsuccess", "inprogress"})

EXPECTED_HEADER = """\
# Heat's functional tests (heat_integrationtests.functional) that are expected NOT to pass
# against `kiln serve`, one per line: TEST_ID # reason. scripts/heat-functional fails when a
# test that is not listed here fails, and prints the listed tests that pass now (remove them).
# `scripts/heat-functional --update-expected` rewrites this file from a run: it drops tests
# that passed, keeps the reasons of tests still failing and adds new failures with a summary
# of their error (replace that with the real reason). Tests that skip themselves (Nova image
# and flavor not configured, no admin credentials, ...) are not listed.
"""


@dataclass
class Outcome:
    """One test's result."""

    test_id: str
    status: str
    seconds: float
    tracebacks: list[str] = field(default_factory=list)
    reason: str = ""

    @property
    def traceback(self) -> str:
        return "\n".join(self.tracebacks)


@dataclass
class Results:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    listed: set[str] = field(default_factory=set)

    def with_status(self, *statuses: str) -> list[Outcome]:
        return [o for o in self.outcomes.values() if o.status in statuses]


# --- the expected-failures list ---------------------------------------------------------------


def read_expected(path: Path) -> dict[str, str]:
    """Test id -> reason, from a ``TEST_ID # reason`` file (``#`` lines are comments)."""
    expected: dict[str, str] = {}
    if not path.exists():
        return expected
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        test_id, separator, reason = line.partition(" # ")
        if not separator or not reason.strip():
            raise SystemExit(f"{path}:{number}: expected 'TEST_ID # reason', got {raw!r}")
        expected[test_id.strip()] = reason.strip()
    return expected


def write_expected(path: Path, expected: dict[str, str]) -> None:
    lines = [f"{test_id} # {reason}" for test_id, reason in sorted(expected.items())]
    path.write_text(EXPECTED_HEADER + "\n".join(lines) + ("\n" if lines else ""))


# --- summarising an error ---------------------------------------------------------------------

_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line \d+, in (?P<function>\S+)')
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_RANDOM_NAME = re.compile(r"\b(\w+-test_\w+?)-\d+\b")
_SERVICES = (
    (re.compile(r"OS::(Nova|Cinder|Neutron|Keystone|Swift|Manila|Glance|Trove)::"), None),
    (re.compile(r"identity endpoints|keystoneauth1\.exceptions|EndpointNotFound"), "Keystone"),
    (re.compile(r"heat-manage: not found"), "heat-manage (Heat's own database tool)"),
    (re.compile(r"oslo_messaging_rabbit|rabbit_"), "RabbitMQ (Heat's notifications)"),
    (re.compile(r"parameter '(flavor|image|InstanceType|ImageId|key_name)' has no"), "Nova"),
)


def error_text(traceback: str) -> str:
    """The exception at the end of a traceback, on one line."""
    lines = traceback.rstrip().splitlines()
    start = 0
    for index, line in enumerate(lines):
        if _FRAME.match(line):
            start = index + 1
    while start < len(lines) and (not lines[start].strip() or lines[start].startswith("    ")):
        start += 1
    text = " ".join(line.strip() for line in lines[start:] if line.strip())
    text = re.sub(r"^(?:[a-z_][\w]*\.)+(?=[A-Z]\w*:)", "", text)  # heatclient.exc.HTTPNotFound
    text = _RANDOM_NAME.sub(r"\1", _UUID.sub("<id>", text))
    return text[:160] + ("..." if len(text) > 160 else "")


def client_call(traceback: str) -> str:
    """The python-heatclient call that raised (``resources.list``), if one did."""
    calls = []
    for line in traceback.splitlines():
        found = _FRAME.match(line)
        if found and "/heatclient/v1/" in found["file"]:
            calls.append(f"{Path(found['file']).stem}.{found['function']}")
    return calls[-1] if calls else ""


def test_line(traceback: str) -> str:
    """The line of Heat's test code that raised, as ``file.py:N: code``."""
    lines = traceback.splitlines()
    found = ""
    for index, line in enumerate(lines[:-1]):
        frame = _FRAME.match(line)
        if frame and "/heat_integrationtests/" in frame["file"]:
            number = line.rsplit(", line ", 1)[1].split(",")[0]
            found = f"{Path(frame['file']).name}:{number}: {lines[index + 1].strip()}"
    return found[:100]


def summarise(traceback: str) -> str:
    """A short reason for the list: a service Kiln does not run, or ``fails: <error>``."""
    for pattern, service in _SERVICES:
        found = pattern.search(traceback)
        if found:
            return f"needs {service or found.group(1)}"
    error = error_text(traceback) or "no traceback"
    where = client_call(traceback) or test_line(traceback)
    return f"fails: {error}" + (f" (at {where})" if where else "")


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class KilnServer:
    """``kiln serve --auth none`` with a KILN_HOME of its own, run with Kiln's Python."""

    def __init__(self, python: str, home: Path) -> None:
        self.python = python
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
        source = str(ROOT / "src")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
        env["KILN_HOME"] = str(self.home)
        self.home.mkdir(parents=True, exist_ok=True)
        command = [self.python, "-m", "kiln.cli", "serve", "--auth", "none"]
        command += ["--port", str(self.port), "--log-level", "warning"]
        with (self.home / "server.log").open("wb") as log:
            self.process = subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit("kiln serve did not start:\n" + self.log())
            time.sleep(0.2)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/", timeout=2) as answer:
                return bool(answer.status == 300)
        except urllib.error.HTTPError as answer:
            # The version document comes with 300 Multiple Choices, which urllib raises.
            return answer.code == 300
        except (OSError, urllib.error.URLError):
            return False

    def log(self) -> str:
        return (self.home / "server.log").read_text(errors="replace")

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


# --- running the tests ------------------------------------------------------------------------


def tempest_config(path: Path, build_timeout: int) -> None:
    """Dummy credentials: with OS_NO_CLIENT_AUTH=True only tests that need Keystone use them."""
    path.write_text(
        f"""[DEFAULT]
log_dir = {path.parent}
log_file = tempest.log

[heat_plugin]
auth_url = http://127.0.0.1:9/identity/v3
auth_version = 3
username = demo
password = not-checked
project_name = {PROJECT}
admin_username = admin
admin_password = not-checked
admin_project_name = {PROJECT}
user_domain_name = Default
project_domain_name = Default
region = RegionOne
build_timeout = {build_timeout}
build_interval = 1
"""
    )


def run_tests(
    workdir: Path, heat_url: str, options: argparse.Namespace, expected: dict[str, str]
) -> Results:
    import subunit  # the venv's, as are testtools and stestr
    import testtools

    site = Path(sysconfig.get_paths()["purelib"])
    config = workdir / "tempest.conf"
    tempest_config(config, options.build_timeout)
    env = {
        **os.environ,
        "TEMPEST_CONFIG_DIR": str(workdir),
        "TEMPEST_CONFIG": config.name,
        "HEAT_URL": heat_url,
        "OS_NO_CLIENT_AUTH": "True",
        "PYTHONWARNINGS": "ignore",  # eventlet's and oslo's deprecation notices, every worker
    }
    stestr = str(options.venv / "bin" / "stestr")
    paths = ["--test-path", str(site / "heat_integrationtests" / "functional")]
    paths += ["--top-dir", str(site)]
    subprocess.run([stestr, "init"], cwd=workdir, env=env, check=True, stdout=subprocess.DEVNULL)
    command = [stestr, *paths, "run", "--subunit", "--concurrency", str(options.concurrency)]
    command += options.filters
    results = Results()
    started = time.monotonic()

    def on_test(test: dict[str, Any]) -> None:
        if test["status"] == "exists":  # the listing before the run
            results.listed.add(test["id"])
            return
        start, stop = test["timestamps"]
        seconds = (stop - start).total_seconds() if start and stop else 0.0
        details = test["details"]
        # the test's own error first, then those of its cleanups
        keys = sorted((k for k in details if k.startswith("traceback")), key=lambda k: (len(k), k))
        outcome = Outcome(test["id"], test["status"], seconds, [details[k].as_text() for k in keys])
        results.outcomes[outcome.test_id] = outcome
        if outcome.status == "skip" and "reason" in details:
            outcome.reason = details["reason"].as_text().strip()
        if outcome.status in FAILED:
            outcome.reason = summarise(outcome.tracebacks[0] if outcome.tracebacks else "")
            label = "fail (listed)" if outcome.test_id in expected else "FAIL (NEW)"
        else:
            label = {"success": "ok"}.get(outcome.status, outcome.status)
        elapsed = time.monotonic() - started
        print(f"[{elapsed:5.0f}s] {label:13} {short(outcome.test_id)} ({seconds:.1f}s)", flush=True)

    with subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE) as runner:
        assert runner.stdout is not None
        stream = subunit.ByteStreamToStreamResult(runner.stdout, non_subunit_name="stdout")
        collected = testtools.StreamToDict(on_test)
        collected.startTestRun()
        stream.run(collected)
        collected.stopTestRun()
    if not results.outcomes:
        raise SystemExit(f"stestr ran no test (exit status {runner.returncode})")
    ran = {test_id.partition("(")[0] for test_id in results.outcomes}  # less any scenario
    for test_id in sorted(results.listed - ran):
        reason = "fails: gave no result (its test worker died?)"
        results.outcomes[test_id] = Outcome(test_id, "inprogress", 0.0, [reason], reason)
    return results


def short(test_id: str) -> str:
    return test_id.removeprefix(PREFIX)


# --- the report -------------------------------------------------------------------------------


def report(
    results: Results, expected: dict[str, str], options: argparse.Namespace, seconds: float
) -> int:
    failed = {o.test_id: o for o in results.with_status(*FAILED)}
    passed = {o.test_id for o in results.with_status("success", "xfail")}
    skipped = results.with_status("skip")
    new_failures = sorted(set(failed) - set(expected))
    now_passing = sorted(set(expected) & passed)
    missing = sorted(set(expected) - set(results.outcomes)) if not options.filters else []

    for test_id in new_failures:
        outcome = failed[test_id]
        print(f"\n=== NEW FAILURE {test_id}\n{outcome.traceback.rstrip()}")
    if skipped:
        print("\nSkipped, by reason:")
        for reason, count in Counter(o.reason for o in skipped).most_common():
            print(f"  {count:3} {reason or 'no reason given'}")
    if failed:
        print("\nFailures, by reason:")
        reasons = Counter(expected.get(t, "NEW: " + o.reason) for t, o in failed.items())
        for reason, count in reasons.most_common():
            print(f"  {count:3} {reason}")
    if new_failures:
        print("\nFailing, not on the list (fix them, or add them with their reason):")
        for test_id in new_failures:
            print(f"  {test_id} # {failed[test_id].reason}")
    if now_passing:
        print(f"\nOn the list but passing now (remove them from {options.expected.name}):")
        for test_id in now_passing:
            print(f"  {test_id}")
    if missing:
        print("\nOn the list but not run (renamed or removed?):")
        for test_id in missing:
            print(f"  {test_id}")
    print(
        f"\nHeat functional tests in {seconds:.0f}s: {len(passed)} passed, {len(skipped)} skipped,"
        f" {len(failed) - len(new_failures)} failing as listed, {len(new_failures)} failing"
        f" unexpectedly, {len(now_passing)} listed but passing"
    )
    if options.update_expected:
        update_expected(options, results, expected, failed)
    if new_failures and not options.update_expected:
        return 1
    return 1 if options.strict and (now_passing or missing) else 0


def update_expected(
    options: argparse.Namespace,
    results: Results,
    expected: dict[str, str],
    failed: dict[str, Outcome],
) -> None:
    ran = set(results.outcomes)
    kept = {t: r for t, r in expected.items() if t not in ran and options.filters}
    for test_id, outcome in failed.items():
        kept[test_id] = expected.get(test_id, outcome.reason)
    write_expected(options.expected, kept)
    print(f"wrote {len(kept)} entries to {options.expected}")


def parse(arguments: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=Path(sys.prefix), help="the Heat venv")
    parser.add_argument("--kiln-python", default="python3", help="the Python that runs Kiln")
    parser.add_argument("--expected", type=Path, default=EXPECTED, help="the expected failures")
    parser.add_argument("--concurrency", type=int, default=4, help="stestr workers (4)")
    parser.add_argument("--build-timeout", type=int, default=120, help="seconds per wait (120)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--strict", action="store_true", help="listed tests that pass fail too")
    parser.add_argument("--results", type=Path, help="write every result to this JSON file")
    parser.add_argument(
        "--update-expected", action="store_true", help="rewrite the list from this run"
    )
    parser.add_argument("filters", nargs="*", help="stestr filters (regular expressions)")
    return parser.parse_args(arguments)


def main(arguments: list[str]) -> int:
    options = parse(arguments)
    expected = read_expected(options.expected)
    workdir = Path(tempfile.mkdtemp(prefix="kiln-heat-functional-"))
    server = KilnServer(options.kiln_python, workdir / "kiln-home")
    started = time.monotonic()
    try:
        server.start()
        heat_url = f"{server.url}/v1/{PROJECT}"
        print(f"kiln serve at {heat_url} (work directory {workdir})", flush=True)
        results = run_tests(workdir, heat_url, options, expected)
    finally:
        status = server.stop()
        if status not in (0, None, -signal.SIGTERM):
            print(f"kiln serve exited with status {status}; its log:\n{server.log()}")
    if options.results:
        options.results.write_text(
            json.dumps([o.__dict__ for o in results.outcomes.values()], indent=1)
        )
    code = report(results, expected, options, time.monotonic() - started)
    if code and not options.strict:
        print("\nThe end of the server's log:\n" + "\n".join(server.log().splitlines()[-40:]))
    if options.keep:
        print(f"kept {workdir} (server log: kiln-home/server.log; `stestr last` there)")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
