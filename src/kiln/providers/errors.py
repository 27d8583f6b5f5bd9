"""What a plugin raises when a lifecycle call cannot succeed.

The engine, not the plugin, decides what happens next: it retries a
``retryable`` error, treats :class:`NotFound` during a delete as success,
and records the message of any other error as the resource's status reason.
Messages are shown to users, so they must never contain the value of a
hidden parameter (do not format property values into them).
"""

from __future__ import annotations

from collections.abc import Sequence

from kiln.errors import Diagnostic, KilnError

__all__ = [
    "Cancelled",
    "Conflict",
    "InvalidInput",
    "NotFound",
    "NotSupported",
    "ProviderError",
    "ResourceFailed",
]


class ProviderError(KilnError):
    """A lifecycle call failed; ``retryable`` says whether the same call may succeed later."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        self.message = message
        self.retryable = retryable
        super().__init__(message)


class NotFound(ProviderError):
    """The physical resource does not exist (a delete treats this as done)."""


class Conflict(ProviderError):
    """The backend refused because of the resource's current state (busy, in use...).

    Retryable by default: such states usually clear by themselves.
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message, retryable=retryable)


class InvalidInput(ProviderError):
    """The properties cannot work for this plugin; every problem is attached.

    Diagnostic paths are relative to the resource's ``properties`` map; the
    engine prefixes them with ``resources.<name>.properties``.
    """

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        message = "invalid properties"
        if first is not None:
            message = f"{first.path}: {first.message}" if first.path else first.message
        super().__init__(message)


class ResourceFailed(ProviderError):
    """The operation ran and failed; the message becomes the resource's status reason.

    Status reasons read ``Kind: resources.name: message`` as Heat's do.
    ``kind`` is the error's name there when Heat shows another than this
    class's (``ValueError`` for a test resource told to fail); ``path`` says
    where inside the resource's nested stack the failure happened
    (``("resources", "oops")``), so the reason names the failing resource.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        kind: str | None = None,
        path: Sequence[str] = (),
    ) -> None:
        super().__init__(message, retryable=retryable)
        self.kind = kind or type(self).__name__
        self.path = tuple(path)


class NotSupported(ProviderError):
    """The plugin does not implement this operation (e.g. signals)."""


class Cancelled(ProviderError):
    """The operation stopped early because the engine asked it to."""
