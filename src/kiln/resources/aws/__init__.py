"""``AWS::*`` resource types.

``register`` is the ``kiln.resources`` entry point for the CloudFormation
types that need no AWS account (``AWS::CloudFormation::Stack`` runs on
Kiln's own engine).
"""

from __future__ import annotations

from kiln.providers.protocol import ResourcePlugin
from kiln.providers.registry import PluginRegistry
from kiln.resources.aws import cloudformation, wait_condition

PLUGINS: tuple[type[ResourcePlugin], ...] = (
    cloudformation.CloudFormationStack,
    wait_condition.CloudFormationWaitConditionHandle,
    wait_condition.CloudFormationWaitCondition,
)


def register(registry: PluginRegistry) -> None:
    for plugin in PLUGINS:
        registry.register(plugin)
