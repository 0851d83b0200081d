"""`cog run` (and its legacy name `cog predict`): one prediction, from the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from cog._container.session import predict, run_options_for
from cog.cli import _options
from cog.cli._images import image_to_run
from cog.cli._input_flags import check_image_argument, collect_inputs, input_payload
from cog.cli._options import ProjectFile, parse_env


@dataclass(frozen=True)
class RunRequest:
    """What to run (a built image, or the project in the current directory) and with what."""

    project: ProjectFile
    image: str | None
    inputs: dict[str, Any]
    output: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    gpus: str | None = None
    runtime: str = "runc"
    setup_timeout: int = 300
    progress: str = "auto"
    use_replicate_token: bool = False


def run_options(function: Any) -> Any:
    """The flags of `cog run`, `cog predict` and `cog train`."""
    return _options.compose(
        click.argument("image", required=False),
        _options.env,
        _options.config_file,
        _options.gpus,
        _options.runtime,
        click.option(
            "-i",
            "--input",
            "inputs",
            multiple=True,
            metavar="NAME=VALUE",
            help="Inputs, in the form name=value. If value is prefixed with @, then it is read "
            "from a file on disk. E.g. -i path=@image.jpg. Can be repeated.",
        ),
        click.option(
            "--json",
            "json_inputs",
            default=None,
            metavar="JSON",
            help="Pass inputs as JSON object, read from file (@inputs.json) or via stdin (@-).",
        ),
        _options.progress,
        click.option(
            "--setup-timeout",
            type=click.IntRange(min=0),
            default=300,
            show_default=True,
            help="The timeout for a container to setup (in seconds).",
        ),
        _options.use_cog_base_image,
        _options.use_cuda_base_image,
        click.option(
            "--use-replicate-token",
            is_flag=True,
            help="Pass REPLICATE_API_TOKEN from local environment into the model context.",
        ),
    )(function)


def run_request(params: dict[str, Any], default_output: Path | None = None) -> RunRequest:
    check_image_argument(params["image"])
    output = params["output"]
    return RunRequest(
        project=ProjectFile(Path(params["config_file"])),
        image=params["image"],
        inputs=collect_inputs(params["inputs"], params["json_inputs"]),
        output=Path(output) if output is not None else default_output,
        env=parse_env(params["env"]),
        gpus=params["gpus"],
        runtime=params["runtime"],
        setup_timeout=params["setup_timeout"],
        progress=params["progress"],
        use_replicate_token=params["use_replicate_token"],
    )


_OUTPUT = click.option("-o", "--output", default=None, metavar="PATH", help="Output path.")
_HELP = """Run the model.

If IMAGE is passed, it runs the model in that image, which must have been built by Cog.
Otherwise, it builds the model in the current directory and runs it.
"""


@click.command("run", help=_HELP)
@run_options
@_OUTPUT
def run_command(**params: Any) -> None:
    run(run_request(params))


@click.command(
    "predict",
    help=_HELP + "\n`cog predict` is the legacy name of `cog run` (deprecated).",
    short_help="Run the model (the legacy name of `cog run`).",
    hidden=True,  # as the reference hides it
)
@run_options
@_OUTPUT
def predict_command(**params: Any) -> None:
    deprecated("predict", 'use "cog run" instead')
    run(run_request(params))


def deprecated(command: str, advice: str) -> None:
    """The line the reference's CLI (cobra's ``Deprecated``) prints on stderr."""
    click.echo(f'Command "{command}" is deprecated, {advice}', err=True)


def run(request: RunRequest, *, train: bool = False) -> None:
    target = image_to_run(request.image, request.project, request.progress)
    options = run_options_for(
        env=request.env,
        gpus=request.gpus,
        gpu_default=target.gpu,
        setup_timeout=request.setup_timeout,
        engine=request.runtime,
        pass_replicate_token=request.use_replicate_token,
    )
    rendered = predict(
        target.image,
        input_payload(request.inputs),
        output_path=request.output,
        options=options,
        train=train,
        progress=target.progress,
    )
    if rendered.text is not None:
        click.echo(rendered.text)
    for path in rendered.written:
        click.echo(f"Written output to {path}", err=True)
