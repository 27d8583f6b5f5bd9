"""The resource plugin SDK: what providers implement and how they are found.

- :mod:`kiln.providers.protocol`: :class:`ResourcePlugin`, the request types and :class:`Progress`;
- :mod:`kiln.providers.context`: :class:`ProviderContext` (clients, logger, cancellation, clock);
- :mod:`kiln.providers.errors`: what plugins raise;
- :mod:`kiln.providers.waiting`: waits spread over polls instead of sleeps;
- :mod:`kiln.providers.registry`: :class:`PluginRegistry` and entry-point discovery;
- :mod:`kiln.providers.testing`: the contract suite every provider runs.
"""
