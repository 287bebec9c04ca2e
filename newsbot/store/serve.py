"""The Datasette process of `scrapy browse`: `datasette serve` with newsbot's plugin hooks (hidden
columns, story ids as links, column descriptions in each column's menu). It takes `datasette serve`'s
arguments: `python -m newsbot.store.serve STORE --metadata /dev/stdin ...`."""

from __future__ import annotations

import sqlite3
import sys
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.cli import cli
from datasette.plugins import pm
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from newsbot.store.datasette import STYLE, STYLE_PATH, hide_columns


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.set_authorizer(hide_columns)


@hookimpl
def render_cell(value: Any, column: str, database: str, datasette: Any) -> Markup | None:
    """A story id, wherever Datasette shows one (the tables, the views, the queries), as a link to
    its editions: the articles table filtered on it. None: Datasette renders the cell itself."""
    if column != "story_id" or not isinstance(value, str) or not value:
        return None
    url = f"{datasette.urls.table(database, 'articles')}?{urlencode({'story_id': value})}"
    return Markup(f'<a href="{escape(url)}">{escape(value)}</a>')


@hookimpl
def extra_css_urls(datasette: Any) -> list[str]:
    return [datasette.urls.path(STYLE_PATH)]


async def style() -> Response:
    return Response(STYLE, content_type="text/css; charset=utf-8")


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(f"^{STYLE_PATH}$", style)]


if __name__ == "__main__":
    pm.register(sys.modules[__name__], name="newsbot")
    cli(["serve", *sys.argv[1:]], prog_name="datasette")
