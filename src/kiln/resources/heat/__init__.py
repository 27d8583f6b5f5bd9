"""``OS::Heat::*`` utility resources.

``register`` is the ``kiln.resources`` entry point: it adds each type's plugin
(and so its schema) and the custom constraints they use to a registry.
"""

from __future__ import annotations

from kiln.providers.protocol import ResourcePlugin
from kiln.providers.registry import PluginRegistry
from kiln.resources.heat import (
    autoscaling,
    cloud_config,
    delay,
    deployment_group,
    group,
    none,
    random_string,
    software_config,
    software_deployment,
    stack,
    test_resource,
    value,
    wait_condition,
)

PLUGINS: tuple[type[ResourcePlugin], ...] = (
    none.NoneResource,
    value.ValueResource,
    random_string.RandomString,
    test_resource.TestResource,
    delay.Delay,
    stack.HeatStack,
    group.ResourceGroup,
    group.ResourceChain,
    wait_condition.WaitConditionHandle,
    wait_condition.WaitCondition,
    autoscaling.AutoScalingGroup,
    autoscaling.ScalingPolicy,
    software_config.SoftwareConfig,
    software_config.StructuredConfig,
    cloud_config.CloudConfig,
    cloud_config.MultipartMime,
    software_deployment.SoftwareDeploymentPlugin,
    software_deployment.StructuredDeploymentPlugin,
    deployment_group.SoftwareDeploymentGroup,
    deployment_group.StructuredDeploymentGroup,
    deployment_group.SoftwareDeployments,
    deployment_group.StructuredDeployments,
)

SCHEMAS = tuple(plugin.schema for plugin in PLUGINS)


def register(registry: PluginRegistry) -> None:
    for plugin in PLUGINS:
        registry.register(plugin)
    test_resource.register_constraints(registry.schemas())
    registry.register_template_plugin(stack.template_resource)
