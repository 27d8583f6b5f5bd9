"""The Local cloud: real servers as supervised process groups on this machine."""

from __future__ import annotations

from kiln.clients.local.cloud import (
    ACTIVE,
    BUILD,
    ERROR,
    SHUTOFF,
    SUSPENDED,
    AgentSpec,
    LocalCloud,
    LocalCloudError,
    ServerInfo,
    ServerSpec,
)

__all__ = [
    "ACTIVE",
    "BUILD",
    "ERROR",
    "SHUTOFF",
    "SUSPENDED",
    "AgentSpec",
    "LocalCloud",
    "LocalCloudError",
    "ServerInfo",
    "ServerSpec",
]
