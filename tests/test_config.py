"""One home for each setting: declared once in settings.py, read only through newsbot.config."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from scrapy.settings import Settings

from newsbot import settings as project_settings
from newsbot.config import Config, setting_name

PACKAGE = Path(project_settings.__file__).parent


def declared() -> set[str]:
    return {name for name in vars(project_settings) if name.startswith("NEWSBOT_")}


def test_every_setting_is_declared_once_and_read_through_the_config() -> None:
    assert {setting_name(f.name) for f in fields(Config)} == declared()
    text = (PACKAGE / "settings.py").read_text("utf-8")
    for name in declared():
        assert len(re.findall(rf"^{name}\s*=", text, re.M)) == 1, name


def test_no_module_reads_a_newsbot_setting_with_a_default_of_its_own() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name in ("settings.py", "config.py"):
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if re.search(r"settings\.get\w*\(\s*[\"']NEWSBOT_", line):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_config_reads_types_and_overrides() -> None:
    settings = Settings()
    settings.setmodule(project_settings)
    settings.set("NEWSBOT_DB_BATCH_SIZE", "50", priority="cmdline")
    settings.set("NEWSBOT_FILL_FLOORS", '{"tags": 0.5}', priority="cmdline")
    config = Config.from_settings(settings)
    assert config.db_batch_size == 50 and config.fill_floors == {"tags": 0.5}
    assert config.languages == ["az", "en", "ru"] and config.db == project_settings.NEWSBOT_DB
    # Settings without the project's (a crawler built by hand) take settings.py's defaults, not others.
    bare = Config.from_settings(Settings({"NEWSBOT_DB": "x"}))
    assert bare.db == "x" and bare.db_timeout == project_settings.NEWSBOT_DB_TIMEOUT

