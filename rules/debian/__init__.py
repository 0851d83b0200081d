"""Debian indexes: signed fetch, Packages parsing, dpkg version order, dependency closure."""
