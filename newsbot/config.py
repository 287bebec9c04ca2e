"""Every NEWSBOT_* setting, read once, through one object: its type and its check (a bad value is one
line naming the setting); the defaults live only in newsbot/settings.py, so a setting cannot be read
with two defaults, or without being declared."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from typing import Any, Callable
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from scrapy.settings import BaseSettings

from newsbot.site.urls import LANGUAGES

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
# line "NEWSBOT_X must be <that>; got <value>". A setting without one takes any value of its type.
Check = Callable[[Any], str]


def _checked(check: Check) -> Any:
    return field(metadata={"check": check})


def _at_least(low: int) -> Any:
    return _checked(lambda value: "" if value >= low else f"at least {low}")


def _share(value: float) -> str:
    return "" if 0 <= value <= 1 else "a share from 0 to 1"


def _check_share(value: float) -> str:
    # 0 would flag everything; 1 is how a check is turned off.
    return "" if 0 < value <= 1 else "a share above 0 (1 turns the check off)"


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


@dataclass(frozen=True)
class Config:
    base_url: str = _checked(_site_url)
    languages: list = _checked(_languages)
    latest_since: str = _checked(_moment)
    js_mode: str = _checked(lambda v: "" if v in ("auto", "always", "never") else "auto, always or never")
    js_scrolls: int = _at_least(0)
    db: str
    jsonl: str
    db_batch_size: int = _at_least(1)
    db_flush_interval: float = _at_least(0)
    db_timeout: float = _at_least(0)
    archive: str
    degraded_threshold: float = _checked(_share)
    degraded_min_pages: int = _at_least(0)
    error_threshold: float = _checked(_share)
    fill_floors: dict = _checked(_floors)
    fill_history_runs: int = _at_least(1)
    fill_history_min_runs: int = _at_least(1)
    fill_history_ratio: float = _checked(_share)
    leak_share: float = _checked(_check_share)
    leak_min_stories: int = _at_least(1)
    leak_image_share: float = _checked(_check_share)
    leak_image_min_stories: int = _at_least(1)
    retry_backoff: float = _at_least(0)
    retry_backoff_max: float = _at_least(0)
    block_after: int = _at_least(0)
    walk_backlog: int = _at_least(0)
    progress_interval: float = _at_least(0)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Config:
        """The values of `settings`; what they lack (a crawler built without the project's settings,
        as tests and embedding code do) comes from newsbot/settings.py, the one home of the defaults."""
        values: dict[str, Any] = {}
        for spec in fields(cls):
            name = setting_name(spec.name)
            source = settings if name in settings else _defaults()
            if name not in source:
                # A setting read but not declared in settings.py is a bug, not a default to invent here.
                raise KeyError(f"{name} has no default in newsbot/settings.py")
            read, kind = _READERS[spec.type]
            try:
                value = read(source, name)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be {kind}; got {source.get(name)!r}") from None
            wanted = spec.metadata["check"](value) if "check" in spec.metadata else ""
            if wanted:
                raise ValueError(f"{name} must be {wanted}; got {value!r}")
            values[spec.name] = value
        return cls(**values)


def setting_name(field_name: str) -> str:
    return "NEWSBOT_" + field_name.upper()


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
