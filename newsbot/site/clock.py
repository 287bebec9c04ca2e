"""The site's time: Baku's, and how its pages write a date."""

from __future__ import annotations

import re
from datetime import timedelta, timezone

BAKU = timezone(timedelta(hours=4), "Asia/Baku")  # no DST since 2016

# "28 January, 2026", "01 dekabr, 2024", and the older design's "7 Fevral , 2024" (month names: words.MONTHS).
DATE = re.compile(r"(\d{1,2})[\s.]+([^\W\d_]+)\.?\s*,?\s*(\d{4})", re.UNICODE)
NUMERIC_DATE = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})")
TIME = re.compile(r"(\d{1,2})[:.](\d{2})(?::(\d{2}))?")
