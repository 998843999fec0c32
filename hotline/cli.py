"""The `hotline` command (CONTRACT §6): a click group; each command is a few lines over the core.

Commands live beside their concern: cli_store.py (db, directory, consultations, operators, purge) and
cli_numbers.py (ledger, stats, export, report). Errors from the core become one clear line at this edge.
"""
from __future__ import annotations

import click

from hotline import cli_documents, cli_numbers, cli_store


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """城中区 12348 legal-service assistant: the consultation log, the roster and the bureau's figures.

    Example: hotline stats --year 2023
    """


for _module in (cli_store, cli_numbers, cli_documents):
    for _command in _module.COMMANDS:
        main.add_command(_command)

if __name__ == "__main__":
    main()
