"""Every NEWSBOT_* setting, read once, through one object.

The defaults live in newsbot/settings.py and nowhere else: this module only says how each
setting is read (its type). Components take `config(crawler)` (or `Config.from_settings` in a
command) instead of reading settings with defaults of their own, so a setting cannot be read
with two different defaults, or be read without being declared.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import Any
from weakref import WeakKeyDictionary

from scrapy.settings import BaseSettings

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
    gc_freeze: bool
    heap_trim_interval: float
    heap_mmap_threshold: int

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
            try:
                values[field.name] = _READERS[field.type](source, name)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name}: {exc}") from None
        return cls(**values)


def setting_name(field_name: str) -> str:
    return _PREFIX + field_name.upper()


_READERS = {
    "str": lambda s, name: s.get(name) or "",
    "int": BaseSettings.getint,
    "float": BaseSettings.getfloat,
    "list": BaseSettings.getlist,
    "dict": BaseSettings.getdict,
    "bool": BaseSettings.getbool,
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
