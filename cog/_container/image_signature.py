"""Read a model's signature inside its built image, with the model's own dependencies.

What the reference does when a signature needs the model imported (choices from an
installed package, a type defined by a library): the image's Python imports it, never
the host's. The image's cog runs ``python3 -m cog._signature.fallback`` on /src.
"""

from __future__ import annotations

import subprocess
import tempfile

from cog._container.image import Image
from cog._container.runc import ContainerSpec
from cog._container.session import make_container
from cog._signature.model import Mode, Signature
from cog._signature.project_schema import FALLBACK_TIMEOUT_S, ImportModel, decode_fallback
from cog.errors import SchemaError
from cog.progress import Progress


def image_importer(image: Image, progress: Progress, engine: str = "runc") -> ImportModel:
    def import_model(ref: str, mode: Mode) -> Signature:
        return signature_in_image(image, ref, mode, progress, engine)

    return import_model


def signature_in_image(
    image: Image, ref: str, mode: Mode, progress: Progress, engine: str = "runc"
) -> Signature:
    workdir = "/src"  # where the code layer puts the project, whatever WORKDIR says
    spec = ContainerSpec(
        args=("python3", "-m", "cog._signature.fallback", workdir, ref, mode.value),
        env=image.config.env_dict(),
        cwd=workdir,
    )
    where = f"in the image ({image.manifest_digest[:19]})"
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        make_container(image, spec, engine, progress) as container,
    ):
        process = container.start(stdout=out, stderr=err)
        try:
            status = process.wait(FALLBACK_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise SchemaError(
                f"importing {ref} {where} took more than {FALLBACK_TIMEOUT_S:g} s",
                "Check what the model does when it is imported (downloads, model loading "
                "belong in setup()).",
            ) from None
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    return decode_fallback(ref, stdout, stderr, status, where)
