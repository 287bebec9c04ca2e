"""The Datasette process of `scrapy browse`: Datasette's own `serve` command, with the store's hidden
columns (newsbot.store.datasette.HIDDEN_COLUMNS) applied to every connection it opens.

`python -m newsbot.store.serve STORE --metadata /dev/stdin ...` takes `datasette serve`'s arguments.
"""

from __future__ import annotations

import sqlite3
import sys

from datasette import hookimpl
from datasette.cli import cli
from datasette.plugins import pm

from newsbot.store.datasette import hide_columns


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.set_authorizer(hide_columns)


if __name__ == "__main__":
    pm.register(sys.modules[__name__], name="newsbot")
    cli(["serve", *sys.argv[1:]], prog_name="datasette")
