"""Write the example's weights: a small JSON file that setup() loads."""

import json
from pathlib import Path

WEIGHTS = Path(__file__).parent / "weights" / "greeting.json"


def main() -> None:
    WEIGHTS.parent.mkdir(exist_ok=True)
    weights = {"greeting": "hello", "punctuation": "!", "scale": [0.5, 1.5, 2.5]}
    WEIGHTS.write_text(json.dumps(weights, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
