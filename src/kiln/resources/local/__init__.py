"""``Local::*`` resources: real resources on the machine Kiln runs on.

They need no cloud account: a server is a supervised process group with its
own loopback address. ``register`` is the ``kiln.resources`` entry point.
"""

from __future__ import annotations

from kiln.providers.protocol import ResourcePlugin
from kiln.providers.registry import PluginRegistry
from kiln.resources.local import load_balancer, server, volume

PLUGINS: tuple[type[ResourcePlugin], ...] = (
    server.LocalServer,
    volume.LocalVolume,
    volume.LocalVolumeAttachment,
    load_balancer.LocalLoadBalancer,
    load_balancer.LocalPool,
    load_balancer.LocalPoolMember,
    load_balancer.LocalHealthMonitor,
)


def register(registry: PluginRegistry) -> None:
    for plugin in PLUGINS:
        registry.register(plugin)
