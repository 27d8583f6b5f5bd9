"""Hidden values: keys from the environment or a private key file, sealing and opening."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from kiln.persistence.errors import SecretKeyError
from kiln.persistence.secrets import SecretBox, load_secret_keys

SECRET = "s3cr3t-value-that-must-not-leak"


def test_key_from_the_environment(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    environ = {"KILN_SECRET_KEY": key.decode(), "KILN_HOME": str(tmp_path)}
    assert load_secret_keys(environ) == [key]
    assert not (tmp_path / "secret.key").exists()


def test_several_keys_rotate(tmp_path: Path) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    sealed_with_old = SecretBox([old]).seal({"p": SECRET}, {"p"})
    rotated = SecretBox.from_environment({"KILN_SECRET_KEY": f"{new.decode()}, {old.decode()}"})
    assert rotated.open(sealed_with_old) == {"p": SECRET}
    resealed = rotated.seal({"p": SECRET}, {"p"})
    assert SecretBox([new]).open(resealed) == {"p": SECRET}


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = load_secret_keys({"KILN_HOME": str(home)})
    key_file = home / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_secret_keys({"KILN_HOME": str(home)}) == first
    assert [path.name for path in home.iterdir()] == ["secret.key"]
    Fernet(first[0])


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    key_file.write_bytes(Fernet.generate_key())
    os.chmod(key_file, 0o644)
    with pytest.raises(SecretKeyError) as caught:
        load_secret_keys({"KILN_HOME": str(tmp_path)})
    assert str(caught.value) == f"{key_file} must be readable by its owner only (mode is 644)"


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param([b"not-a-key"], id="malformed"),
        pytest.param([b"c2hvcnQ="], id="too-short"),
    ],
)
def test_invalid_key_is_refused_without_echoing_it(keys: list[bytes]) -> None:
    with pytest.raises(SecretKeyError) as caught:
        SecretBox(keys)
    assert str(caught.value) == (
        "a secret key is not valid: it must be 32 url-safe base64-encoded bytes"
    )


@pytest.mark.parametrize(
    "form",
    [pytest.param("bytes", id="bytes"), pytest.param("text", id="text")],
)
def test_a_single_key_may_be_given_alone(form: str) -> None:
    key = Fernet.generate_key()
    box = SecretBox(key if form == "bytes" else key.decode())
    assert SecretBox([key]).open(box.seal({"p": SECRET}, {"p"})) == {"p": SECRET}


def test_no_key_is_refused() -> None:
    with pytest.raises(SecretKeyError) as caught:
        SecretBox([])
    assert str(caught.value) == "no secret key configured"


def test_wrong_key_cannot_open_and_says_so_without_the_value() -> None:
    sealed = SecretBox([Fernet.generate_key()]).seal({"p": SECRET}, {"p"})
    with pytest.raises(SecretKeyError) as caught:
        SecretBox([Fernet.generate_key()]).open(sealed)
    assert str(caught.value) == "a stored secret cannot be decrypted with the configured key(s)"


@pytest.mark.parametrize(
    ("values", "hidden"),
    [
        pytest.param({"password": SECRET, "size": 3}, {"password"}, id="string"),
        pytest.param({"keys": [SECRET, {"n": 1}]}, {"keys"}, id="json-list"),
        pytest.param({"n": 42, "flag": True, "none": None}, {"n", "flag", "none"}, id="scalars"),
        pytest.param({"p": {"__encrypted__": "x"}}, set(), id="visible-lookalike"),
        pytest.param({"p": {"__plain__": 1}}, set(), id="visible-plain-lookalike"),
        pytest.param({"p": {"__encrypted__": "x"}}, {"p"}, id="hidden-lookalike"),
        pytest.param({}, set(), id="empty"),
    ],
)
def test_seal_then_open_gives_back_the_values(values: dict[str, Any], hidden: set[str]) -> None:
    box = SecretBox([Fernet.generate_key()])
    sealed = box.seal(values, hidden)
    assert box.open(sealed) == values
    for name in hidden:
        assert set(sealed[name]) == {"__encrypted__"}
    assert SECRET not in repr(sealed)


def test_visible_values_stay_readable() -> None:
    sealed = SecretBox([Fernet.generate_key()]).seal({"size": 3, "name": "web"}, {"password"})
    assert sealed == {"size": 3, "name": "web"}
