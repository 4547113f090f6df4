"""The one door: the typed service the UI, the CLI and the API call, with exports and the command line.

May import: clipdemo.core, clipdemo.data, clipdemo.teach (and clipdemo.training/bench only from CLI
subcommands that run them).
"""
