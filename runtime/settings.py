"""The runtime's settings: read once, from the command line, the environment and cog.yaml.

Invalid environment values are ignored with a warning and the default is used, as the
reference documents for each COG_* variable.

Variables this runtime adds to the reference's:

- ``COG_SHUTDOWN_GRACE``: seconds that running predictions get to finish after SIGTERM
  (or POST /shutdown) before they are canceled; unset: no limit (the orchestrator's own
  kill is the bound). Under Kubernetes, keep the pod's terminationGracePeriodSeconds
  above this plus a few seconds for the cancelation (see examples/kubernetes/).
- ``COG_READY_FILE``: where the readiness file goes when ``KUBERNETES_SERVICE_HOST`` is
  set (default ``/var/run/cog/ready``, as the reference); present while the server can
  take predictions.
- ``COG_MAX_INPUT_FILE_BYTES``: the largest file input (a URL) a prediction may fetch
  (default 8 GiB); a larger one fails that prediction.
- ``COG_DOWNLOAD_TIMEOUT``: seconds one file input may take to fetch, all of it, however
  the server sends it (default 60); a slower one fails that prediction.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("cog.runtime")

DEFAULT_PORT = 5000
DEFAULT_THROTTLE = 0.5
DEFAULT_HISTORY = 1024
DEFAULT_READY_FILE = Path("/var/run/cog/ready")
DEFAULT_MAX_INPUT_FILE_BYTES = 8 << 30
DEFAULT_DOWNLOAD_TIMEOUT = 60.0
LOG_LEVELS = {"debug": "DEBUG", "info": "INFO", "warn": "WARNING", "warning": "WARNING"}
LOG_LEVELS["error"] = "ERROR"


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know, fixed before it starts."""

    project_dir: Path = field(default_factory=Path.cwd)
    predict_ref: str | None = None
    train_ref: str | None = None
    host: str = "0.0.0.0"  # noqa: S104 (the server listens on every interface in an image)
    port: int = DEFAULT_PORT
    upload_url: str | None = None
    await_explicit_shutdown: bool = False
    max_concurrency: int = 1
    # COG_MAX_CONCURRENCY was given: it outranks the entry point's @concurrent(max=N),
    # which outranks cog.yaml's concurrency.max.
    concurrency_from_env: bool = False
    # cog.yaml names an entry point file that is not there: the server still starts and
    # reports SETUP_FAILED with this (what is missing, and the hint) in setup.logs.
    setup_error: str | None = None
    setup_timeout: float | None = None  # seconds; None: no timeout
    throttle_interval: float = DEFAULT_THROTTLE
    stream_history_capacity: int = DEFAULT_HISTORY
    weights: str | None = None
    user_agent: str | None = None
    log_level: str = "INFO"
    # Not reference settings: limits this runtime adds. Tests shorten them.
    cancel_grace: float = 5.0  # seconds a canceled prediction may take to stop
    max_body_bytes: int = 64 * 1024 * 1024
    download_timeout: float = DEFAULT_DOWNLOAD_TIMEOUT  # seconds for one URL input, all of it
    max_input_file_bytes: int = DEFAULT_MAX_INPUT_FILE_BYTES
    upload_timeout: float = 120.0
    webhook_retries: int = 12
    webhook_backoff: float = 0.25  # first retry delay in seconds; doubles, capped at 8 s
    # Dead workers are replaced at most max_replacements times within any
    # replacement_window seconds; past that the model is DEFUNCT (it is crash-looping).
    max_replacements: int = 10
    replacement_window: float = 60.0
    python: str | None = None  # the interpreter for workers; None: this one
    shutdown_grace: float | None = None  # seconds to drain before canceling; None: no limit
    ready_file: Path | None = None  # the Kubernetes readiness file; None: none written
    handle_signals: bool = True  # SIGTERM/SIGINT drain; only possible in the main thread

    @classmethod
    def from_env_and_args(
        cls,
        *,
        host: str = "0.0.0.0",  # noqa: S104
        port: int | None = None,
        upload_url: str | None = None,
        await_explicit_shutdown: bool = False,
        project_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Settings:
        """Settings for a server started in ``project_dir`` (default: the working directory).

        Reads ``cog.yaml`` there for predict/train and concurrency.max (the entry point's
        @concurrent(max=N) overrides it, COG_MAX_CONCURRENCY both);
        ``COG_PREDICT_TYPE_STUB``/``COG_TRAIN_TYPE_STUB`` override the refs.
        """
        env = os.environ if env is None else env
        project = (project_dir or Path.cwd()).resolve()
        predict_ref, train_ref, concurrency, setup_error = _from_cog_yaml(project)
        predict_ref = env.get("COG_PREDICT_TYPE_STUB") or predict_ref
        train_ref = env.get("COG_TRAIN_TYPE_STUB") or train_ref
        if port is None:
            port = _int_env(env, "PORT", DEFAULT_PORT, minimum=0)
        return cls(
            project_dir=project,
            predict_ref=predict_ref,
            train_ref=train_ref,
            host=host,
            port=port,
            upload_url=upload_url,
            await_explicit_shutdown=await_explicit_shutdown,
            max_concurrency=_int_env(env, "COG_MAX_CONCURRENCY", concurrency, minimum=1),
            concurrency_from_env=_int_env(env, "COG_MAX_CONCURRENCY", 0, minimum=1, quiet=True) > 0,
            setup_timeout=_setup_timeout(env),
            throttle_interval=_float_env(env, "COG_THROTTLE_RESPONSE_INTERVAL", DEFAULT_THROTTLE),
            stream_history_capacity=_int_env(
                env, "COG_STREAM_HISTORY_CAPACITY", DEFAULT_HISTORY, minimum=0
            ),
            weights=env.get("COG_WEIGHTS") or None,
            user_agent=env.get("COG_USER_AGENT") or None,
            log_level=_log_level(env),
            shutdown_grace=_shutdown_grace(env),
            ready_file=_ready_file(env),
            download_timeout=_download_timeout(env),
            max_input_file_bytes=_int_env(
                env, "COG_MAX_INPUT_FILE_BYTES", DEFAULT_MAX_INPUT_FILE_BYTES, minimum=1
            ),
            setup_error=setup_error,
        )


def _from_cog_yaml(project: Path) -> tuple[str | None, str | None, int, str | None]:
    """predict and train refs, concurrency.max, and the error that fails setup if any.

    A cog.yaml that names an entry point file which does not exist is not the server's
    to refuse (exit 1 would leave an orchestrator nothing to read): it serves, and
    /health-check says SETUP_FAILED with the error naming the file. Any other invalid
    cog.yaml stops the server with the error (a CogError).
    """
    path = project / "cog.yaml"
    if not path.is_file():
        return None, None, 1, None
    from cog.config import load_config  # noqa: PLC0415 (only needed when cog.yaml exists)
    from cog.errors import ConfigError  # noqa: PLC0415

    try:
        config = load_config(path)
    except ConfigError as exc:
        try:  # valid but for the entry point files? Then serve, failing setup with exc.
            lenient = load_config(path, entry_files=False)
        except ConfigError:
            raise exc from None
        return lenient.predict, lenient.train, 1, str(exc)
    return config.predict, config.train, max(1, config.concurrency_max), None


def _warn(name: str, value: str, default: object) -> None:
    log.warning("ignoring invalid %s=%r; using %r", name, value, default)


def _int_env(
    env: Mapping[str, str], name: str, default: int, *, minimum: int, quiet: bool = False
) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = minimum - 1
    if value < minimum:
        if not quiet:
            _warn(name, raw, default)
        return default
    return value


def _float_env(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        _warn(name, raw, default)
        return default
    if not value >= 0 or value == float("inf"):
        _warn(name, raw, default)
        return default
    return value


def _setup_timeout(env: Mapping[str, str]) -> float | None:
    value = _float_env(env, "COG_SETUP_TIMEOUT", 0.0)
    return None if value == 0 else value


def _shutdown_grace(env: Mapping[str, str]) -> float | None:
    raw = env.get("COG_SHUTDOWN_GRACE")
    if raw is None or raw.strip() == "":
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        _warn("COG_SHUTDOWN_GRACE", raw, "no limit")
        return None
    return value


def _download_timeout(env: Mapping[str, str]) -> float:
    timeout = _float_env(env, "COG_DOWNLOAD_TIMEOUT", DEFAULT_DOWNLOAD_TIMEOUT)
    if timeout == 0:  # no limit is not offered: a trickling server would hold a slot
        _warn("COG_DOWNLOAD_TIMEOUT", env["COG_DOWNLOAD_TIMEOUT"], DEFAULT_DOWNLOAD_TIMEOUT)
        return DEFAULT_DOWNLOAD_TIMEOUT
    return timeout


def _ready_file(env: Mapping[str, str]) -> Path | None:
    # The reference writes it only under Kubernetes: elsewhere nobody reads it, and
    # /var/run may not be writable.
    if not env.get("KUBERNETES_SERVICE_HOST"):
        return None
    raw = env.get("COG_READY_FILE", "").strip()
    return Path(raw) if raw else DEFAULT_READY_FILE


def _log_level(env: Mapping[str, str]) -> str:
    raw = env.get("COG_LOG_LEVEL")
    if raw is None or raw.strip() == "":
        return "INFO"
    level = LOG_LEVELS.get(raw.strip().lower())
    if level is None:
        _warn("COG_LOG_LEVEL", raw, "info")
        return "INFO"
    return level
