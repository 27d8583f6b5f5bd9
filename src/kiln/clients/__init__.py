"""Backends' machinery: the only place that talks to a cloud (or to this machine).

Plugins get these clients through ``ProviderContext.clients``; the edge that
starts an engine builds them once from settings with :func:`cloud_clients`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiln.clients.local import LocalCloud
from kiln.config import DEFAULT_API_URL, LocalSettings

__all__ = ["LOCAL_CLIENT", "cloud_clients"]

#: The name Local::* plugins find their client under in ``ProviderContext.clients``.
LOCAL_CLIENT = "local"


def cloud_clients(
    local: LocalSettings, home: Path, *, api_url: str = DEFAULT_API_URL
) -> dict[str, Any]:
    """Every configured client by name; ``home`` is Kiln's state home (``$KILN_HOME``),
    ``api_url`` where servers reach Kiln's API."""
    return {
        LOCAL_CLIENT: LocalCloud(
            local.root if local.root is not None else home / "local",
            address_range=local.address_range,
            stop_grace_seconds=local.stop_grace_seconds,
            api_url=api_url,
        )
    }
