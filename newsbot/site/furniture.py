"""Page furniture inside article bodies: the exact phrasings known to be the page's, not the news
(shared/site/REPORT_AZ.md). A paragraph is never furniture because it mentions a network or a
channel: reporting quotes Telegram channels all the time ("said on its Telegram channel").
"""

from __future__ import annotations

import re

# rule -> exact phrasings, compared casefolded and without trailing punctuation.
PHRASINGS: dict[str, tuple[str, ...]] = {
    "share_prompt": (
        "Sosial şəbəkələrdə paylaşın",
        "Sosial şəbəkələrdə bölüşün",
        "Share on social networks",
        "Share on social media",
        "Share on Facebook, Twitter, WhatsApp",
        "Поделиться в социальных сетях",
        "Поделиться в WhatsApp",
    ),
    "follow_prompt": (
        "Ən son xəbərləri Telegram kanalımızda izləyin",
        "Ən son xəbərlər Telegram kanalımızda",
        "Follow Report on Telegram for the latest news",
        "Подписывайтесь на Report в Telegram",
    ),
    "subscription": (
        "Report İnformasiya Agentliyinin dərc etdiyi xəbərlərə abunə olmaq, fotoları əldə etmək üçün "
        "agentliyin kommersiya bölməsinə müraciət edə bilərsiz",
    ),
}

# A source line: the label, then the name of a source, and nothing that reads like a sentence.
SOURCE_LINE = re.compile(r"(?:mənbə|menbe|источник|source)\s*:\s*[^.!?:]{1,60}\.?", re.IGNORECASE)

_TRAILING = " .:;!…"
_BY_TEXT: dict[str, str] = {
    phrasing.casefold().rstrip(_TRAILING): rule for rule, phrasings in PHRASINGS.items() for phrasing in phrasings
}
# Anything longer is reporting, whatever it starts with.
_LONGEST = max(len(k) for k in _BY_TEXT) + 10


def rule_for(paragraph: str) -> str | None:
    """The furniture rule a cleaned paragraph matches ("empty" for a blank one), or None for reporting."""
    if not paragraph:
        return "empty"
    if len(paragraph) > _LONGEST:
        return None
    rule = _BY_TEXT.get(paragraph.casefold().rstrip(_TRAILING))
    if rule is None and SOURCE_LINE.fullmatch(paragraph):
        return "source_line"
    return rule
