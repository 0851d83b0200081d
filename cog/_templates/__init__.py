"""Files written by `cog init` (package data: *.tmpl and *.txt)."""
