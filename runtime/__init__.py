"""The HTTP server that runs inside every image. Installed as ``cog.runtime``."""
