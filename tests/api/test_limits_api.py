"""Limits and bad input over real HTTP against a real ``kiln serve``: each is a 4xx in
Heat's error shape that says what is wrong, and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from api_support import Api, Server, error_of, until

#: Small limits, so that going past them takes a few stacks and resources.
MAX_STACKS = 3
MAX_RESOURCES = 4

SECRET = "limits-secret-value"

ONE_RESOURCE = {
    "heat_template_version": "2018-08-31",
    "resources": {"r": {"type": "OS::Heat::None"}},
}

HIDDEN = {
    "heat_template_version": "2018-08-31",
    "parameters": {
        "secret": {
            "type": "string",
            "hidden": True,
            "constraints": [{"allowed_pattern": "[a-z-]+"}],
        }
    },
    "resources": {
        "said": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "secret"}}},
    },
    "outputs": {"said": {"value": {"get_attr": ["said", "value"]}}},
}


def _resources(count: int) -> dict[str, object]:
    return {
        "heat_template_version": "2018-08-31",
        "resources": {f"r{n}": {"type": "OS::Heat::None"} for n in range(count)},
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(
        home=tmp_path_factory.mktemp("kiln-serve"),
        environ={
            "KILN_MAX_STACKS_PER_PROJECT": str(MAX_STACKS),
            "KILN_MAX_RESOURCES_PER_STACK": str(MAX_RESOURCES),
        },
    )
    running.start()
    yield running
    running.stop()


def _no_stacks(api: Api) -> None:
    assert api.get("/stacks").json()["stacks"] == []


# -- integers in queries ---------------------------------------------------------------


def test_integers_in_queries_too_big_or_not_integers_are_refused(api: Api) -> None:
    path = api.created("numbers", ONE_RESOURCE)
    huge = "9798318021442353407983616"
    for where, name in (
        ("/stacks", "limit"),
        (f"{path}/events", "limit"),
        (f"{path}/events", "nested_depth"),
        (f"{path}/resources", "nested_depth"),
        (f"{path}/events/stream", "after"),
        ("/software_configs", "limit"),
    ):
        error = error_of(api.get(where, params={name: huge}), 400)
        assert name in error["message"], (where, error)
        not_a_number = error_of(api.get(where, params={name: "ten"}), 400)
        assert name in not_a_number["message"], (where, not_a_number)
    error = error_of(api.get(f"{path}/events", params={"limit": "2147483648"}), 400)
    assert error == {
        "type": "Invalid",
        "message": "Value '2147483648' is invalid for 'limit' which only accepts integers "
        "up to 2147483647.",
        "traceback": None,
    }
    assert error_of(api.get(f"{path}/events", params={"limit": "1e3"}), 400)["message"] == (
        "Only integer is acceptable by 'limit'."
    )
    streamed = api.get(f"{path}/events/stream", headers={"Last-Event-ID": huge})
    assert "Last-Event-ID" in error_of(streamed, 400)["message"]
    listed = error_of(api.get("/stacks", params={"limit": "2147483648"}), 400)
    assert listed["message"] == (
        "Invalid query parameter 'limit': Input should be less than or equal to 2147483647."
    )
    # The biggest accepted value works.
    assert api.get("/stacks", params={"limit": 2147483647}).status_code == 200
    assert api.get(f"{path}/events", params={"limit": "2147483647"}).status_code == 200


def test_a_huge_timeout_is_refused(api: Api) -> None:
    for timeout in (10**30, "10000000000000000000000", "soon", -1, 1.5, True):
        answer = api.post(
            "/stacks", {"stack_name": "late", "template": ONE_RESOURCE, "timeout_mins": timeout}
        )
        assert "timeout_mins" in error_of(answer, 400)["message"], timeout
    _no_stacks(api)


# -- redirects -------------------------------------------------------------------------


def test_a_name_alone_redirects_with_an_empty_302_for_every_method(api: Api) -> None:
    path = api.created("found", ONE_RESOURCE)
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        answer = api.http.request(method, api.path("/stacks/found"))
        assert answer.status_code == 302, (method, answer.text)
        assert answer.headers["location"].endswith(api.path(path))
        assert answer.content == b"" and "content-type" not in answer.headers
    document = api.http.get("/openapi.json").json()
    lookups = document["paths"]["/v1/{project_id}/stacks/{stack_name}"]
    assert sorted(lookups) == ["delete", "get", "patch", "post", "put"]
    assert len({operation["operationId"] for operation in lookups.values()}) == 5
    for operation in lookups.values():
        found = operation["responses"]["302"]
        assert "content" not in found and "Location" in found["headers"]


def test_delete_by_name_follows_the_redirect_and_deletes_the_stack(api: Api) -> None:
    path = api.created("doomed", ONE_RESOURCE)
    found = api.delete("/stacks/doomed")
    assert found.status_code == 302
    # python-heatclient sends the request again, with the same method, to the Location.
    location = found.headers["location"]
    assert location.endswith(api.path(path))
    assert api.http.delete(location).status_code == 204

    until(lambda: api.get("/stacks/doomed").status_code == 404)
    assert api.delete("/stacks/doomed").status_code == 404


# -- stack names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["1abc", "_abc", "a b", "a/b", "caf\u00e9", "a" * 256, "a\n"],
    ids=["digit", "underscore", "space", "slash", "non-ascii", "too-long", "newline"],
)
def test_names_heat_refuses_are_refused_on_create_preview_and_adopt(api: Api, name: str) -> None:
    expected = (
        f"Invalid stack name {name} must contain only alphanumeric or "
        '"_-." characters, must start with alpha and must be 255 characters or less.'
    )
    body = {"stack_name": name, "template": ONE_RESOURCE}
    for path, sent in (
        ("/stacks", body),
        ("/stacks/preview", body),
        ("/stacks", {"stack_name": name, "adopt_stack_data": {"template": ONE_RESOURCE}}),
    ):
        error = error_of(api.post(path, sent), 400)
        assert error == {"type": "StackValidationFailed", "message": expected, "traceback": None}
    _no_stacks(api)


def test_names_heat_takes_are_taken(api: Api) -> None:
    for name in ("a" * 255, "A.b-c_9"):
        created = api.post("/stacks", {"stack_name": name, "template": ONE_RESOURCE})
        assert created.status_code == 201, created.text
        assert api.wait(name)["stack_status"] == "CREATE_COMPLETE"


def test_a_name_that_is_not_a_string_is_refused(api: Api) -> None:
    error = error_of(api.post("/stacks", {"stack_name": 12, "template": ONE_RESOURCE}), 400)
    assert error["type"] == "StackValidationFailed"
    assert error["message"] == "Invalid stack name 12, must be a string"
    missing = error_of(api.post("/stacks", {"stack_name": "", "template": ONE_RESOURCE}), 400)
    assert missing["message"] == "No stack name specified"
    _no_stacks(api)


# -- stacks per project ----------------------------------------------------------------


def test_a_project_holds_at_most_its_limit_of_stacks(server: Server) -> None:
    api, other = server.client(), server.client()
    paths = [api.created(f"s{n}", ONE_RESOURCE) for n in range(MAX_STACKS)]
    expected = {
        "type": "RequestLimitExceeded",
        "message": f"Request limit exceeded: You have reached the maximum stacks per tenant, "
        f"{MAX_STACKS}. Please delete some stacks.",
        "traceback": None,
    }
    body = {"stack_name": "one-more", "template": ONE_RESOURCE}
    assert error_of(api.post("/stacks", body), 400) == expected
    assert error_of(api.post("/stacks/preview", body), 400) == expected
    adopt = {"stack_name": "one-more", "adopt_stack_data": {"template": ONE_RESOURCE}}
    assert error_of(api.post("/stacks", adopt), 400) == expected
    assert len(api.get("/stacks").json()["stacks"]) == MAX_STACKS
    # The limit is per project; a nested stack does not count; a deleted stack frees a place.
    assert other.post("/stacks", body).status_code == 201
    assert api.delete(paths[0]).status_code == 204
    until(lambda: len(api.get("/stacks").json()["stacks"]) < MAX_STACKS)
    assert api.post("/stacks", body).status_code == 201


# -- resources per stack ---------------------------------------------------------------


def test_a_template_with_too_many_resources_is_refused_on_create_preview_and_update(
    api: Api,
) -> None:
    body = {"stack_name": "crowded", "template": _resources(MAX_RESOURCES + 1)}
    for path in ("/stacks", "/stacks/preview"):
        error = error_of(api.post(path, body), 400)
        assert error["type"] == "RequestLimitExceeded"
        assert error["diagnostics"][0]["path"] == "resources"
        assert str(MAX_RESOURCES) in error["message"]
    _no_stacks(api)
    path = api.created("roomy", _resources(MAX_RESOURCES))
    for method in ("put", "patch"):
        update = getattr(api, method)(path, {"template": _resources(MAX_RESOURCES + 1)})
        assert error_of(update, 400)["type"] == "RequestLimitExceeded"
        preview = getattr(api, method)(
            f"{path}/preview", {"template": _resources(MAX_RESOURCES + 1)}
        )
        assert error_of(preview, 400)["type"] == "RequestLimitExceeded"
    shown = api.stack("roomy")
    assert shown["stack_status"] == "CREATE_COMPLETE"
    resources = api.get(f"{path}/resources").json()["resources"]
    assert len(resources) == MAX_RESOURCES


def test_resources_of_nested_stacks_count_toward_the_limit(api: Api) -> None:
    child = json.dumps(_resources(2))
    parent = {
        "heat_template_version": "2018-08-31",
        "resources": {"a": {"type": "child.yaml"}, "b": {"type": "child.yaml"}},
    }
    # 2 + 2 * 2 = 6 resources in all.
    body = {"stack_name": "deep", "template": parent, "files": {"child.yaml": child}}
    for path in ("/stacks", "/stacks/preview"):
        error = error_of(api.post(path, body), 400)
        assert error["type"] == "RequestLimitExceeded"
        assert error["message"] == (
            "Request limit exceeded: Maximum resources per stack exceeded: with its nested "
            f"stacks the stack would have 6 resources; the limit is {MAX_RESOURCES}."
        )
    _no_stacks(api)
    single = dict(parent, resources={"a": {"type": "child.yaml"}})
    path = api.created("shallow", single, files={"child.yaml": child})
    assert api.stack("shallow")["stack_status"] == "CREATE_COMPLETE"
    update = api.put(path, {"template": parent, "files": {"child.yaml": child}})
    assert error_of(update, 400)["type"] == "RequestLimitExceeded"
    assert api.stack("shallow")["stack_status"] == "CREATE_COMPLETE"


# -- bodies ----------------------------------------------------------------------------


def test_a_body_over_a_mebibyte_is_refused_with_400(api: Api) -> None:
    big = json.dumps({"stack_name": "big", "template": ONE_RESOURCE, "files": {"f": "x" * 2**20}})
    error = error_of(
        api.http.post(
            api.path("/stacks"), content=big, headers={"Content-Type": "application/json"}
        ),
        400,
    )
    assert error["type"] == "RequestLimitExceeded"
    assert "1048576 bytes" in error["message"]

    def chunks() -> Iterator[bytes]:
        data = big.encode()
        for start in range(0, len(data), 65536):
            yield data[start : start + 65536]

    # Without a Content-Length (chunked), the body is cut off once it goes past the limit.
    chunked = api.http.post(
        api.path("/stacks"), content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in chunked.request.headers
    assert error_of(chunked, 400)["type"] == "RequestLimitExceeded"
    _no_stacks(api)
    # Just under the limit is read as usual.
    small = {"stack_name": "small", "template": ONE_RESOURCE, "files": {"f": "x" * 1000}}
    assert api.post("/stacks", small).status_code == 201


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"parameters": ["a"]}, "parameters"),
        ({"files": {"f": 1}}, "files"),
        ({"files": "f"}, "files"),
        ({"environment": 3}, "environment"),
        ({"environment_files": "env.yaml"}, "environment_files"),
        ({"environment_files": ["missing.yaml"]}, "environment_files"),
        ({"environment_files": [{}]}, "environment_files"),
        ({"tags": 5}, "tags"),
        ({"disable_rollback": "perhaps"}, "disable_rollback"),
        ({"template": 7}, "template"),
        ({"stack_nmae": "typo"}, "stack_nmae"),
        ({"files_container": "c"}, "files_container"),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, dict) else str(value),
)
def test_wrong_types_and_unknown_fields_are_refused_by_name(
    api: Api, body: dict[str, object], named: str
) -> None:
    sent = {"stack_name": "typed", "template": ONE_RESOURCE, **body}
    for path in ("/stacks", "/stacks/preview"):
        error = error_of(api.post(path, sent), 400)
        assert named in error["message"], (path, error)
    _no_stacks(api)


def test_bad_update_bodies_are_refused_by_name_and_change_nothing(api: Api) -> None:
    path = api.created("steady", ONE_RESOURCE)
    for body, named in (
        ({"clear_parameters": "x"}, "clear_parameters"),
        ({"clear_parameters": [1]}, "clear_parameters"),
        ({"stack_name": "renamed"}, "stack_name"),
        ({"timeout_mins": "x"}, "timeout_mins"),
        ({"environment_files": [{}]}, "environment_files"),
    ):
        for suffix in ("", "/preview"):
            error = error_of(api.patch(f"{path}{suffix}", body), 400)
            assert named in error["message"], (suffix, body, error)
    for body in ([1, 2], "text", 3):
        error = error_of(api.put(path, body), 400)
        assert error["message"] == "The request body must be a JSON object."
    not_json = api.http.put(
        api.path(path), content=b'{"template": ', headers={"Content-Type": "application/json"}
    )
    assert error_of(not_json, 400) == {
        "type": "Invalid",
        "message": "The request body is not valid JSON: Expecting value (at character 13).",
        "traceback": None,
    }
    assert api.stack("steady")["stack_status"] == "CREATE_COMPLETE"


def test_a_template_url_is_refused_the_client_must_send_the_template(api: Api) -> None:
    for url in ("file:///etc/passwd", "http://127.0.0.1:1/template.yaml"):
        for path in ("/stacks", "/stacks/preview"):
            error = error_of(api.post(path, {"stack_name": "fetched", "template_url": url}), 400)
            assert "send the template itself in 'template'" in error["message"]
            assert "passwd" not in json.dumps(error).replace(url, "")
    assert "root:" not in api.post("/validate", {"template_url": "file:///etc/passwd"}).text
    environment = {
        "stack_name": "fetched",
        "template": ONE_RESOURCE,
        "environment_files": ["file:///etc/passwd"],
    }
    error = error_of(api.post("/stacks", environment), 400)
    assert "send each environment file's contents in 'files'" in error["message"]
    _no_stacks(api)


def test_a_get_file_of_a_local_path_reads_nothing_from_the_server(api: Api) -> None:
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "leak": {
                "type": "OS::Heat::Value",
                "properties": {"value": {"get_file": "file:///etc/passwd"}},
            }
        },
    }
    answer = api.post("/stacks", {"stack_name": "leak", "template": template})
    assert answer.status_code == 400
    assert "root:" not in answer.text
    _no_stacks(api)


# -- hidden parameters -----------------------------------------------------------------


def test_a_hidden_parameter_never_appears_in_any_answer(api: Api) -> None:
    body = {"stack_name": "quiet", "template": HIDDEN, "parameters": {"secret": SECRET}}
    preview = api.post("/stacks/preview", body)
    assert preview.status_code == 200, preview.text
    answers = [preview]
    path = api.created("quiet", HIDDEN, parameters={"secret": SECRET})
    assert api.stack("quiet")["stack_status"] == "CREATE_COMPLETE"
    for read in (
        path,
        f"{path}/events",
        f"{path}/resources",
        f"{path}/resources/said",
        f"{path}/resources/said/events",
        f"{path}/outputs",
        f"{path}/environment",
        f"{path}/export",
    ):
        answers.append(api.get(read, params={"nested_depth": 1} if "events" in read else None))
    answers.append(api.patch(f"{path}/preview", {"parameters": {"secret": SECRET + "-x"}}))
    # A value that breaks the constraint is refused without being echoed.
    wrong = "NOT-ALLOWED-" + SECRET
    for method, where in (("post", "/stacks"), ("post", "/stacks/preview"), ("patch", path)):
        sent = (
            {**body, "stack_name": "loud", "parameters": {"secret": wrong}}
            if method == "post"
            else {"parameters": {"secret": wrong}}
        )
        refused = getattr(api, method)(where, sent)
        assert refused.status_code == 400, refused.text
        answers.append(refused)
    for answer in answers:
        assert answer.status_code < 500, answer.text
        assert SECRET not in answer.text, answer.request.url
    assert api.stack("quiet")["parameters"]["secret"] == "******"
