"""The words the site prints: month names, navigation labels, badges."""

from __future__ import annotations

# Month name (casefolded) -> number. en, az, ru genitive (the site's "28 января"), ru nominative,
# and English abbreviations; the older design capitalises az months ("7 Fevral , 2024").
MONTHS: dict[str, int] = {
    name: number
    for names in (
        "january february march april may june july august september october november december",
        "yanvar fevral mart aprel may iyun iyul avqust sentyabr oktyabr noyabr dekabr",
        "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
        "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь",
        "jan feb mar apr may jun jul aug sep oct nov dec",
    )
    for number, name in enumerate(names.split(), start=1)
}

# Nav labels of the latest-news feed (az path confirmed; urls.LATEST_FALLBACK_PATHS only the fallback).
LATEST_LABELS: dict[str, tuple[str, ...]] = {
    "az": ("son xəbərlər",),
    "en": ("latest news", "news feed", "all news feed"),
    "ru": ("последние новости", "лента новостей"),
}

# Text inside a link that is not the linked story's title: media badges ("Photo" blocks of the
# seed page) and language labels, casefolded, without a trailing colon.
LINK_LABELS = frozenset({
    "photo", "foto", "фото", "video", "видео",
    "az", "en", "ru", "aze", "eng", "rus", "azərbaycanca", "azərbaycan dilində", "english", "русский",
    "in english", "на русском",
})

# The letters the editions write in: Azerbaijani Latin (with English's) and Russian Cyrillic.
LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzəğıöüçş" "ABCDEFGHIJKLMNOPQRSTUVWXYZƏĞİÖÜÇŞ"
                    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя" "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ")
