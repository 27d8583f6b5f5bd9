"""The Local backend's settings, and the clients an engine is given from them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from local_support import address_range, clean_up

from kiln.clients import LOCAL_CLIENT, cloud_clients
from kiln.clients.local import ACTIVE, BUILD, LocalCloud, ServerSpec
from kiln.config import LocalSettings, local_settings_from_environment


def test_defaults_put_servers_under_the_kiln_home(tmp_path: Path) -> None:
    settings = local_settings_from_environment({})
    assert settings == LocalSettings(None, "127.77.0.0/16", 5.0)
    cloud = cloud_clients(settings, tmp_path)[LOCAL_CLIENT]
    assert isinstance(cloud, LocalCloud)
    assert (cloud.root, str(cloud.addresses.network), cloud.stop_grace_seconds) == (
        tmp_path / "local",
        "127.77.0.0/16",
        5.0,
    )


def test_environment_variables_override_each_setting(tmp_path: Path) -> None:
    settings = local_settings_from_environment(
        {
            "KILN_LOCAL_ROOT": str(tmp_path / "elsewhere"),
            "KILN_LOCAL_ADDRESS_RANGE": "127.9.0.0/24",
            "KILN_LOCAL_STOP_GRACE_SECONDS": "0.5",
        }
    )
    assert settings == LocalSettings(tmp_path / "elsewhere", "127.9.0.0/24", 0.5)
    cloud = cloud_clients(settings, tmp_path)[LOCAL_CLIENT]
    assert cloud.root == tmp_path / "elsewhere"


def test_a_grace_period_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError) as failure:
        local_settings_from_environment({"KILN_LOCAL_STOP_GRACE_SECONDS": "soon"})
    assert str(failure.value) == "KILN_LOCAL_STOP_GRACE_SECONDS must be a number, not 'soon'"


def test_an_address_range_off_the_loopback_interface_is_refused(tmp_path: Path) -> None:
    settings = LocalSettings(address_range="10.0.0.0/24")
    with pytest.raises(ValueError) as failure:
        cloud_clients(settings, tmp_path)
    assert str(failure.value) == "the Local address range 10.0.0.0/24 is not a loopback range"


def test_servers_are_told_the_api_url_and_reach_loopback_without_a_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    settings = LocalSettings(address_range=address_range(), stop_grace_seconds=0.5)
    cloud = cloud_clients(settings, tmp_path, api_url="http://127.0.0.1:9911/")[LOCAL_CLIENT]
    user_data = '#!/bin/sh\nenv > "$HOME/environment"\n'
    spec = ServerSpec("probe", user_data=user_data, environment={"no_proxy": "internal.example"})
    server_id = cloud.create_server("probe", spec)
    try:
        deadline = time.monotonic() + 30
        while (server := cloud.server(server_id)) is not None and server.status == BUILD:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert server is not None and server.status == ACTIVE, server
        lines = (server.work / "environment").read_text().splitlines()
    finally:
        clean_up(cloud)
    environment = dict(line.split("=", 1) for line in lines if "=" in line)
    assert environment["KILN_API_URL"] == "http://127.0.0.1:9911"
    assert environment["no_proxy"] == "internal.example,127.0.0.1,localhost,::1,127.0.0.0/8"
    assert environment["NO_PROXY"] == "127.0.0.1,localhost,::1,127.0.0.0/8"
    assert "http_proxy" not in environment
