from __future__ import annotations

import json
from pathlib import Path

import pytest
from cog.rules.cache import Cache, LayerRecord
from cog.rules.image import ImageSettings, image_config, write_image
from cog.rules.oci import REF_NAME, OciLayout
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
