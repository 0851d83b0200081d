"""Pure build rules: resolve, fetch, layer, image, registry. Installed as ``cog.rules``."""
