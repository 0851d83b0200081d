"""`cog doctor`: the checks of a project and its host, their findings and the fixes."""
