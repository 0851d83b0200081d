"""The CLI's error hierarchy: every error a user can act on says what, where, and what to do.

Rendered by the CLI as one message and a hint, never a traceback (unless --debug).
"""

from __future__ import annotations


class CogError(Exception):
    """An error the user can act on.

    ``message`` says what went wrong and where; ``hint`` says what to do about it.
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n{self.hint}"
        return self.message


class ConfigError(CogError):
    """cog.yaml (or a file it names) is missing, unreadable or invalid."""


class SchemaError(CogError):
    """The model's predict/train signature cannot be turned into an API."""


class LockError(CogError):
    """cog.lock cannot be produced, or is stale or corrupt."""


class BuildError(CogError):
    """An image cannot be assembled from cog.lock."""


class FetchError(CogError):
    """A package, wheel or blob could not be fetched or failed its checksum."""


class RegistryError(CogError):
    """A registry refused a request or could not be reached."""


class RunError(CogError):
    """A container could not be started or the model inside it failed."""


# The reference SDK's names (python/cog/errors.py), for code that imports or catches them.


class ConfigDoesNotExist(ConfigError):  # noqa: N818 (the reference's name)
    """There is no cog.yaml where one was looked for."""


class PredictorNotSet(ConfigError):  # noqa: N818 (the reference's name)
    """cog.yaml names no ``predict`` (or ``train``) entry point where one is needed."""
