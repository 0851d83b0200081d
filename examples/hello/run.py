"""Greets someone, using "weights" loaded once in setup()."""

import json
from pathlib import Path

from cog import BaseRunner, Input

WEIGHTS = Path(__file__).parent / "weights" / "greeting.json"


class Runner(BaseRunner):
    def setup(self) -> None:
        self.weights = json.loads(WEIGHTS.read_text())

    def run(
        self,
        name: str = Input(description="Who to greet", default="world"),
        times: int = Input(description="How many times", default=1, ge=1, le=10),
    ) -> str:
        greeting = f"{self.weights['greeting']}, {name}{self.weights['punctuation']}"
        return " ".join([greeting] * times)
