"""Encryption of hidden values at rest.

Hidden parameters (``hidden: true`` in a template) are stored as
``{"__encrypted__": "<Fernet token>"}`` in the stored JSON; everything else
stays readable, so operators can still inspect stacks in the database.

The key comes from ``KILN_SECRET_KEY`` (url-safe base64, as Fernet makes
them; several keys separated by commas rotate: the first encrypts, all
decrypt), or else from ``$KILN_HOME/secret.key``, created with mode 0600 on
first use. Nothing here logs values, and no error message includes one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from kiln.persistence.database import kiln_home
from kiln.persistence.errors import SecretKeyError

ENCRYPTED_MARKER = "__encrypted__"
#: Wraps a visible value that happens to look like an encrypted one, so it loads unchanged.
PLAIN_MARKER = "__plain__"
KEY_FILE = "secret.key"


class SecretBox:
    """Seals and opens values with the configured key, or keys (the first one encrypts)."""

    def __init__(self, keys: bytes | str | Collection[bytes]) -> None:
        if isinstance(keys, bytes | str):
            keys = [keys.encode("utf-8") if isinstance(keys, str) else keys]
        if not keys:
            raise SecretKeyError("no secret key configured")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except ValueError:
            raise SecretKeyError(
                "a secret key is not valid: it must be 32 url-safe base64-encoded bytes"
            ) from None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> SecretBox:
        return cls(load_secret_keys(environ))

    @staticmethod
    def generate_key() -> bytes:
        return Fernet.generate_key()

    def encrypt(self, value: Any) -> str:
        """A token for any JSON-serialisable value."""
        return self._fernet.encrypt(json.dumps(value).encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> Any:
        try:
            return json.loads(self._fernet.decrypt(token.encode("ascii")))
        except (InvalidToken, UnicodeEncodeError):
            raise SecretKeyError(
                "a stored secret cannot be decrypted with the configured key(s)"
            ) from None

    def seal(self, values: Mapping[str, Any], hidden_names: Collection[str]) -> dict[str, Any]:
        """The mapping to store: hidden entries encrypted, visible ones as they are."""
        sealed: dict[str, Any] = {}
        for name, value in values.items():
            if name in hidden_names:
                sealed[name] = {ENCRYPTED_MARKER: self.encrypt(value)}
            elif _looks_wrapped(value):
                sealed[name] = {PLAIN_MARKER: value}
            else:
                sealed[name] = value
        return sealed

    def open(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """The inverse of :meth:`seal`; needs no list of names."""
        opened: dict[str, Any] = {}
        for name, value in stored.items():
            if _is_marked(value, ENCRYPTED_MARKER):
                opened[name] = self.decrypt(value[ENCRYPTED_MARKER])
            elif _is_marked(value, PLAIN_MARKER):
                opened[name] = value[PLAIN_MARKER]
            else:
                opened[name] = value
        return opened


def sealed_names(stored: Mapping[str, Any]) -> set[str]:
    """Names stored encrypted, so that a value hidden once stays encrypted when rewritten."""
    return {name for name, value in stored.items() if _is_marked(value, ENCRYPTED_MARKER)}


def _is_marked(value: Any, marker: str) -> bool:
    return isinstance(value, dict) and len(value) == 1 and marker in value


def _looks_wrapped(value: Any) -> bool:
    return _is_marked(value, ENCRYPTED_MARKER) or _is_marked(value, PLAIN_MARKER)


def load_secret_keys(environ: Mapping[str, str]) -> list[bytes]:
    """Keys from ``KILN_SECRET_KEY``, else the key file (created when missing)."""
    configured = environ.get("KILN_SECRET_KEY", "").strip()
    if configured:
        return [part.strip().encode("utf-8") for part in configured.split(",") if part.strip()]
    return [read_or_create_key_file(kiln_home(environ) / KEY_FILE)]


def read_or_create_key_file(path: Path) -> bytes:
    """The key stored at ``path``; a new one is written there (0600) if there is none.

    The new key is written to a private temporary file first and then linked
    into place, which fails if the name exists: two processes starting at once
    never see a half-written key, and the loser reads the winner's key. A key
    file others can read is refused, as ssh refuses a loose private key.
    """
    if path.exists():
        return _read_private_key(path)
    key = Fernet.generate_key()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(8).hex()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as key_file:
            key_file.write(key + b"\n")
        os.link(temporary, path)
    except FileExistsError:
        return _read_private_key(path)
    finally:
        temporary.unlink(missing_ok=True)
    return key


def _read_private_key(path: Path) -> bytes:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise SecretKeyError(f"{path} must be readable by its owner only (mode is {mode:o})")
    key = path.read_bytes().strip()
    if not key:
        raise SecretKeyError(f"{path} is empty")
    return key
