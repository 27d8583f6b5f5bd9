"""Loopback addresses for Local::Servers, shared by every Kiln process on the machine.

Linux routes all of 127.0.0.0/8 to the loopback interface, so each server
gets an address of its own from a configured range and several servers can
listen on the same port. An allocation is a file ``ADDRESS`` in the pool's
directory holding the owner's id, created with ``O_EXCL``: two processes
can never take the same address, and the pool needs no lock.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

__all__ = ["AddressError", "AddressPool"]


class AddressError(Exception):
    """No address can be given; ``property_name`` is the property at fault."""

    def __init__(self, message: str, property_name: str = "address") -> None:
        super().__init__(message)
        self.property_name = property_name


class AddressPool:
    def __init__(self, directory: Path, network: str) -> None:
        self.directory = directory
        self.network = ipaddress.IPv4Network(network)
        if not self.network.is_loopback:
            raise ValueError(f"the Local address range {network} is not a loopback range")

    def owner(self, address: str) -> str | None:
        try:
            return (self.directory / address).read_text().strip() or None
        except FileNotFoundError:
            return None

    def owned_by(self, owner: str) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(a.name for a in self.directory.iterdir() if self.owner(a.name) == owner)

    def check(self, address: str) -> str:
        """The address in canonical form; AddressError when outside the range."""
        try:
            parsed = ipaddress.IPv4Address(address)
        except ValueError:
            raise AddressError(f"address {address!r} is not an IPv4 address") from None
        if parsed not in self.network or parsed in (
            self.network.network_address,
            self.network.broadcast_address,
        ):
            raise AddressError(
                f"address {parsed} is outside the Local address range {self.network}"
            )
        return str(parsed)

    def allocate(self, owner: str, fixed: str | None = None) -> str:
        """Give ``owner`` an address (``fixed`` if asked); the one it holds already if any."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if fixed is not None:
            address = self.check(fixed)
            if not self._claim(address, owner):
                raise AddressError(
                    f"address {address} is already taken by server {self.owner(address)}"
                )
            return address
        held = self.owned_by(owner)
        if held:
            return held[0]
        taken = {entry.name for entry in self.directory.iterdir()}
        for host in self.network.hosts():
            address = str(host)
            if address not in taken and self._claim(address, owner):
                return address
        raise AddressError(f"the Local address range {self.network} has no free address left")

    def release(self, owner: str) -> None:
        for address in self.owned_by(owner):
            (self.directory / address).unlink(missing_ok=True)

    def _claim(self, address: str, owner: str) -> bool:
        path = self.directory / address
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self.owner(address) == owner
        with os.fdopen(descriptor, "w") as handle:
            handle.write(owner)
        return True
