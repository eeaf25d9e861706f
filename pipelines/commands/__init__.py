"""Subcommands of the `preorders` CLI; each module defines `register(subparsers)`."""
