"""Running images without a daemon: unpack, runc, and the CLI's side of the HTTP API."""
