"""Every NEWSBOT_* setting, read once, through one object.

The defaults live in newsbot/settings.py and nowhere else: this module only says how each
setting is read (its type) and which values it takes (_CHECKS): a bad value is refused in one
line naming the setting, before a crawl starts. Components take `config(crawler)` (or
`Config.from_settings` in a command) instead of reading settings with defaults of their own, so a
setting cannot be read with two different defaults, or be read without being declared.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import Any, Callable
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from scrapy.settings import BaseSettings

from newsbot.site.urls import LANGUAGES

_PREFIX = "NEWSBOT_"


@dataclass(frozen=True)
class Config:
    base_url: str
    languages: list
    latest_since: str
    js_mode: str
    js_scrolls: int
    db: str
    jsonl: str
    db_batch_size: int
    db_flush_interval: float
    db_timeout: float
    archive: str
    degraded_threshold: float
    degraded_min_pages: int
    error_threshold: float
    fill_floors: dict
    fill_history_runs: int
    fill_history_min_runs: int
    fill_history_ratio: float
    leak_share: float
    leak_min_stories: int
    leak_image_share: float
    leak_image_min_stories: int
    retry_backoff: float
    retry_backoff_max: float
    block_after: int
    walk_backlog: int
    progress_interval: float

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Config:
        """The values of `settings`; what they lack (a crawler built without the project's settings,
        as tests and embedding code do) comes from newsbot/settings.py, the one home of the defaults."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            name = setting_name(field.name)
            source = settings if name in settings else _defaults()
            if name not in source:
                # A setting read but not declared in settings.py is a bug, not a default to invent here.
                raise KeyError(f"{name} has no default in newsbot/settings.py")
            read, kind = _READERS[field.type]
            try:
                value = read(source, name)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be {kind}; got {source.get(name)!r}") from None
            wanted = _CHECKS[field.name](value)
            if wanted:
                raise ValueError(f"{name} must be {wanted}; got {value!r}")
            values[field.name] = value
        return cls(**values)


def setting_name(field_name: str) -> str:
    return _PREFIX + field_name.upper()


# Per type: how a value is read, and what a value that cannot be read should have been.
_READERS = {
    "str": (lambda s, name: s.get(name) or "", "text"),
    "int": (BaseSettings.getint, "a whole number"),
    "float": (BaseSettings.getfloat, "a number"),
    "list": (BaseSettings.getlist, "a comma-separated list"),
    "dict": (BaseSettings.getdict, "a JSON object"),
    "bool": (BaseSettings.getbool, "true or false"),
}

# A check takes a value as read and returns "" when it is good, else what a good value is, for the
# line "NEWSBOT_X must be <that>; got <value>".
Check = Callable[[Any], str]


def _any(value: Any) -> str:
    return ""


def _at_least(low: int) -> Check:
    return lambda value: "" if value >= low else f"at least {low}"


def _share(value: float) -> str:
    return "" if 0 <= value <= 1 else "a share from 0 to 1"


def _check_share(value: float) -> str:
    # 0 would flag everything; 1 is how a check is turned off.
    return "" if 0 < value <= 1 else "a share above 0 (1 turns the check off)"


def _one_of(*choices: str) -> Check:
    return lambda value: "" if value in choices else f"{', '.join(choices[:-1])} or {choices[-1]}"


def _site_url(value: str) -> str:
    parts = urlsplit(value)
    if not value or (parts.scheme in ("http", "https") and parts.hostname):
        return ""
    return "an http or https URL, like https://report.az"


def _languages(value: list) -> str:
    chosen = {v.strip().lower() for v in value} - {""}
    if chosen and chosen <= set(LANGUAGES):
        return ""
    return f"a comma-separated subset of {','.join(LANGUAGES)}"


def _moment(value: str) -> str:
    from newsbot.spiders.base import parse_moment  # which imports this module

    try:
        parse_moment(value)
    except ValueError:
        return "a date, datetime or duration (like 6h, 2d), or empty"
    return ""


def _floors(value: dict) -> str:
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in value.values()):
        return ""
    return 'a JSON object of fields and shares from 0 to 1, like {"tags": 0.05}'


# What each setting takes beyond its type, for every setting: the one place a value is judged.
_CHECKS: dict[str, Check] = {
    "base_url": _site_url,
    "languages": _languages,
    "latest_since": _moment,
    "js_mode": _one_of("auto", "always", "never"),
    "js_scrolls": _at_least(0),
    "db": _any,
    "jsonl": _any,
    "db_batch_size": _at_least(1),
    "db_flush_interval": _at_least(0),
    "db_timeout": _at_least(0),
    "archive": _any,
    "degraded_threshold": _share,
    "degraded_min_pages": _at_least(0),
    "error_threshold": _share,
    "fill_floors": _floors,
    "fill_history_runs": _at_least(1),
    "fill_history_min_runs": _at_least(1),
    "fill_history_ratio": _share,
    "leak_share": _check_share,
    "leak_min_stories": _at_least(1),
    "leak_image_share": _check_share,
    "leak_image_min_stories": _at_least(1),
    "retry_backoff": _at_least(0),
    "retry_backoff_max": _at_least(0),
    "block_after": _at_least(0),
    "walk_backlog": _at_least(0),
    "progress_interval": _at_least(0),
}


@functools.cache
def _defaults() -> BaseSettings:
    from newsbot import settings as project_settings

    defaults = BaseSettings()
    defaults.setmodule(project_settings)
    return defaults


# Per crawler, and gone with it: nothing is set on Scrapy's objects.
_CONFIGS: WeakKeyDictionary[Any, Config] = WeakKeyDictionary()


def config(crawler) -> Config:
    """The crawler's configuration, read once per crawler."""
    found = _CONFIGS.get(crawler)
    if found is None:
        found = _CONFIGS[crawler] = Config.from_settings(crawler.settings)
    return found
