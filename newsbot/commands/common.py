"""What newsbot's commands share: the one-line usage error, whether a host is loopback, and NewsbotCommand,
the base of every command but crawl: their defaults, texts, shared options (--db, --since, --until, --lang,
-o) and checks."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, NoReturn

from scrapy.settings import BaseSettings

from newsbot.config import Config
from newsbot.outcome import USAGE_ERROR
from newsbot.site import LANGUAGES
from newsbot.store import Store, StoreError

# What to run when an analysis extra's package is missing (export, report, browse say it).
INSTALL_HINT = "pip install -e '.[analysis]'"


def usage_error(command: str, message: str) -> NoReturn:
    """One line on stderr, like argparse's own error line but without the usage block, and exit 2."""
    print(f"{command}: error: {message}", file=sys.stderr)
    sys.exit(USAGE_ERROR)


def is_loopback(host: str | None) -> bool:
    """Whether `host` is this machine only: `localhost` or a loopback address (127.0.0.0/8, ::1).
    Any other name is taken as reachable from the network."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


class NewsbotCommand:
    """A mixin, put before ScrapyCommand (`class Command(NewsbotCommand, ScrapyCommand)`): Scrapy lists
    every ScrapyCommand subclass in this package as a command named after its module."""

    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}
    usage = summary = description = ""  # Scrapy's syntax(), short_desc() and long_desc()
    db_help: str | None = ("the store: an SQLite file, or a postgresql:// URL (default: the NEWSBOT_DB "
                            "setting)")  # None: no --db
    db_metavar = "PATH_OR_URL"
    selects_articles = False  # --since, --until and --lang
    settings: BaseSettings | None
    exitcode: int

    @property
    def name(self) -> str:
        """The command's name, as Scrapy gives it: its module's."""
        return type(self).__module__.rsplit(".", 1)[-1]

    def syntax(self) -> str:
        return self.usage

    def short_desc(self) -> str:
        return self.summary

    def long_desc(self) -> str:
        return self.description

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)  # type: ignore[misc]
        if self.db_help:
            parser.add_argument("--db", metavar=self.db_metavar, help=self.db_help)
        if self.selects_articles:
            for option, side in (("--since", "on or after"), ("--until", "on or before")):
                parser.add_argument(option, type=day, metavar="DATE", help=f"published {side} DATE (YYYY-MM-DD)")
            parser.add_argument("--lang", metavar="LANGS", help="editions, comma-separated (e.g. en,ru)")

    def fail(self, message: str) -> None:
        """What is not the user's mistake (a store that cannot be read, a write refused): one line, exit 1."""
        print(f"{self.name}: {message}", file=sys.stderr)
        self.exitcode = 1

    def read_store(self, path: str) -> Store:
        """The store open read-only, once at this newsbot's schema version: a store written by an earlier
        one is migrated first (on a large store the summaries take a while: a line on stderr per step).
        Raises StoreError."""
        store = Store(path, readonly=True)
        version, current = store.schema_version, store.backend.SCHEMA_VERSION
        if version == current:
            return store
        store.close()
        progress = logging.StreamHandler(sys.stderr)
        progress.setFormatter(logging.Formatter(f"{self.name}: %(message)s"))
        logger = logging.getLogger("newsbot.store")
        level = logger.level
        logger.addHandler(progress)
        logger.setLevel(logging.INFO)
        try:
            Store(path).close()
        except StoreError as exc:
            raise StoreError(f"{store.name} has schema version {version}, older than this newsbot's {current}: it is "
                             f"migrated once, by the first process that may write it ({exc})") from None
        finally:
            logger.removeHandler(progress)
            logger.setLevel(level)
        return Store(path, readonly=True)

    def store_config(self, opts: argparse.Namespace) -> tuple[Config, str]:
        """The settings and the store's path: read also beside --db, so a bad setting is said, not ignored."""
        assert self.settings is not None
        try:
            config = Config.from_settings(self.settings)
        except ValueError as exc:
            usage_error(self.name, str(exc))
        return config, opts.db or config.db

    def languages(self, opts: argparse.Namespace) -> list[str]:
        """--lang's editions (none given: every one)."""
        languages = [lang.strip() for lang in (opts.lang or "").split(",") if lang.strip()]
        unknown = [lang for lang in languages if lang not in LANGUAGES]
        if unknown:
            usage_error(self.name, f"--lang: unknown edition(s) {', '.join(unknown)}; choose from {', '.join(LANGUAGES)}")
        return languages

    def check_output(self, path: str) -> None:
        """A bad -o is a usage error (one line, exit 2), found before the store is read."""
        target = Path(path)
        if target.is_dir():
            usage_error(self.name, f"-o {path}: is a directory")
        parent = target.parent
        if not parent.exists():
            usage_error(self.name, f"-o {path}: no such directory: {parent}")
        if not parent.is_dir():
            usage_error(self.name, f"-o {path}: not a directory: {parent}")

    def cannot_write(self, option: str, exc: OSError) -> NoReturn:
        usage_error(self.name, f"{option}: cannot write it ({exc.strerror or type(exc).__name__})")
