from __future__ import annotations

import json
from pathlib import Path

import pytest

from cog._container.image import blob_path
from cog.errors import RegistryError, RunError
from cog.rules.cache import Cache, LayerRecord
from cog.rules.image_config import ImageSettings, image_config, write_image
from cog.rules.oci import (
    MEDIA_LAYER_GZIP,
    MEDIA_MANIFEST,
    REF_NAME,
    Descriptor,
    OciLayout,
    check_digest,
    is_digest,
)
from cog.rules.tar import Entry, write_layer


def _layer(cache: Cache, text: str) -> LayerRecord:
    return write_layer([Entry("src/x", "file", 0o644, data=text.encode())], cache, f"layer {text}")


@pytest.mark.unit
def test_config_env_labels_and_fixed_time() -> None:
    record = LayerRecord(digest="a" * 64, diff_id="b" * 64, size=1, description="os")
    settings = ImageSettings(
        arch="amd64",
        gpu=True,
        environment={"HF_HOME": "/src/hf", "LANG": "en_US.UTF-8"},
        labels={"run.cog.version": "1"},
        created=86400,
    )
    config = image_config(settings, [record])
    assert config["created"] == "1970-01-02T00:00:00Z"
    env = config["config"]["Env"]
    assert "NVIDIA_VISIBLE_DEVICES=all" in env
    assert "NVIDIA_DRIVER_CAPABILITIES=compute,utility" in env
    assert "LANG=en_US.UTF-8" in env  # the user's value wins
    assert "HF_HOME=/src/hf" in env
    assert config["rootfs"]["diff_ids"] == ["sha256:" + "b" * 64]
    assert config["history"][0]["created_by"] == "os"


@pytest.mark.unit
def test_layout_tags_and_garbage(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    layout = OciLayout(tmp_path / "image")
    settings = ImageSettings(arch="amd64", gpu=False)
    first, _ = write_image(layout, cache, settings, [_layer(cache, "one")])
    layout.tag("a", first)
    second, size = write_image(layout, cache, settings, [_layer(cache, "two")])
    assert second != first
    assert size > 0
    layout.tag("b", second)
    layout.tag("a", second)  # retag: the first image is now unreferenced
    index = layout.read_index()
    assert [m["annotations"][REF_NAME] for m in index["manifests"]] == ["a", "b"]
    assert {m["digest"] for m in index["manifests"]} == {second}
    assert layout.collect_garbage() == 3  # the first manifest, config and layer
    manifest = json.loads(layout.blob(second).read_bytes())
    for descriptor in [manifest["config"], *manifest["layers"]]:
        assert layout.blob(descriptor["digest"]).stat().st_size == descriptor["size"]
    assert json.loads((tmp_path / "image" / "oci-layout").read_text()) == {
        "imageLayoutVersion": "1.0.0"
    }


@pytest.mark.unit
def test_the_same_layers_give_the_same_manifest(tmp_path: Path) -> None:
    settings = ImageSettings(arch="amd64", gpu=False, labels={"k": "v"})
    digests = []
    for name in ("x", "y"):
        cache = Cache(tmp_path / f"cache-{name}")
        digest, _ = write_image(OciLayout(tmp_path / name), cache, settings, [_layer(cache, "1")])
        digests.append(digest)
    assert digests[0] == digests[1]


@pytest.mark.unit
@pytest.mark.parametrize(
    "digest",
    [
        "sha256:" + "A" * 64,  # upper case
        "sha256:" + "../" * 21 + "a",  # 64 characters that climb out of blobs/
        "sha256:" + "a" * 63,
        "sha512:" + "a" * 64,
        "a" * 64,
    ],
)
def test_one_digest_check_everywhere(tmp_path: Path, digest: str) -> None:
    assert not is_digest(digest)
    with pytest.raises(ValueError, match="unsupported digest"):
        OciLayout(tmp_path).blob(digest)
    with pytest.raises(RegistryError, match="Unsupported digest"):
        check_digest(digest)
    with pytest.raises(RunError, match="unsupported digest"):
        blob_path(tmp_path, digest)
    with pytest.raises(RegistryError, match="malformed digest"):
        Descriptor.from_json({"digest": digest, "size": 1}, "here")


@pytest.mark.unit
def test_a_descriptor_reads_back_what_it_writes() -> None:
    digest = "sha256:" + "c" * 64
    full = Descriptor(
        MEDIA_MANIFEST,
        digest,
        12,
        platform=("linux", "arm64", "v8"),
        artifact_type="application/spdx+json",
        annotations={REF_NAME: "latest"},
    )
    assert Descriptor.from_json(full.to_json(), "here") == full
    plain = Descriptor(MEDIA_LAYER_GZIP, digest, 3)
    assert plain.to_json() == {"mediaType": MEDIA_LAYER_GZIP, "digest": digest, "size": 3}
    assert Descriptor.from_json(plain.to_json(), "here") == plain
    assert hash(full) == hash(Descriptor.from_json(full.to_json(), "here"))
    # What an entry leaves out: no media type reads as the caller's default.
    bare = Descriptor.from_json({"digest": digest, "size": 3}, "x", media_type="m")
    assert bare.media_type == "m"


@pytest.mark.unit
@pytest.mark.parametrize(
    "entry",
    [[], {"digest": "sha256:" + "c" * 64}, {"digest": "sha256:" + "c" * 64, "size": -1}],
)
def test_a_bad_descriptor_is_a_registry_error(entry: object) -> None:
    with pytest.raises(RegistryError, match=r"^here: "):
        Descriptor.from_json(entry, "here")
