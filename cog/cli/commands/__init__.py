"""One module per `cog` command; each command's body is one call into its capability."""
