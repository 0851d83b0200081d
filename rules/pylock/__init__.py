"""Python resolution for the target platform with uv: pinned wheels, never sdists."""
