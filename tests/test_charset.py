"""How a page's bytes become text: the bytes decide the charset, and mojibake already inside the text
is repaired for every common mis-reading of UTF-8, without ever touching real text of the editions."""

from __future__ import annotations

import codecs

import ftfy.bad_codecs  # noqa: F401  (the sloppy-windows codecs the misreadings name)
import pytest
from hypothesis import example, HealthCheck, given, settings, strategies as st

from newsbot.html import decide_charset
from newsbot.loaders import extract_page
from newsbot.normalize import MISREADINGS, display_text, repair_mojibake
from tests.replica.content import Corpus
from tests.test_extraction import article_page

AZ = "abcçdeəfgğhxıijkqlmnoöprsştuüvyz"
RU = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"


def _word(alphabet: str) -> st.SearchStrategy[str]:
    letters = st.text(st.sampled_from(alphabet), min_size=1, max_size=12)
    return st.tuples(letters, st.sampled_from(("lower", "title", "upper"))).map(
        lambda pair: getattr(pair[0], pair[1])())


_WORD = st.one_of(_word(AZ), _word(RU), _word("abcdefghijklmnopqrstuvwxyz"))
_NUMBER = st.integers(0, 10**6).map(str)
# A word as typography sets it: bare, quoted, in brackets, or with the punctuation that follows one;
# a number bare or with its unit.
_SET_WORD = st.one_of(
    st.tuples(_WORD, st.sampled_from(("{}", "«{}»", "“{}”", "„{}“", "({})", "{},", "{}.", "{}:", "{};", "{}!", "{}?",
                                      "{}…", "{}’s", "{}-{}", "{} —", "{} –"))),
    st.tuples(_NUMBER, st.sampled_from(("{}", "{}%", "{}°", "{}°C", "№{}", "{}–{}", "{},{}")))
).map(lambda pair: pair[1].format(pair[0], pair[0]))
# Text as the editions write it: words of one alphabet or the other (en is ASCII) and numbers, set as
# news sets them, separated by spaces or no-break spaces.
REAL_TEXT = st.lists(st.tuples(_SET_WORD, st.sampled_from((" ", " ", "\u00a0"))), min_size=1, max_size=40).map(
    lambda tokens: "".join(token + space for token, space in tokens).strip())


# The machine is shared: generation may be slow, which says nothing about the repair.
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REAL_TEXT)
@example("М…")  # read back as cp1251 its bytes decode to a lone combining mark
@example("С…")  # read back as cp1251: "х"
def test_repair_never_changes_real_azerbaijani_or_russian_text(text):
    assert repair_mojibake(text) == text


@pytest.mark.parametrize("name", ["José Müller", "Gérard Depardieu", "Søren Kierkegaard", "Ñuñoa", "Straße"])
def test_foreign_names_are_left_as_they_are(name):
    assert repair_mojibake(name) == name


# The machine is shared: generation may be slow, which says nothing about the repair.
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REAL_TEXT, st.sampled_from(MISREADINGS))
def test_a_misread_text_is_repaired_or_left_as_it_came_never_made_a_third_text(text, misreading):
    garbled = text.encode("utf-8").decode(misreading)
    assert repair_mojibake(garbled) in (text, garbled)


def _replica_texts() -> list[str]:
    """Titles, paragraphs, tags and captions of a replica corpus in all three editions: real sentences."""
    corpus = Corpus(60, seed=3)
    found = []
    for story in corpus.stories:
        for lang in story.langs:
            text = corpus.text(story.index, lang)
            found += [text.title, *text.paragraphs, *text.tags, *(image.caption for image in text.images)]
    return [t for t in found if t and not t.isascii()]


REPLICA_TEXTS = _replica_texts()


@pytest.mark.parametrize("misreading", MISREADINGS)
def test_every_common_misreading_of_real_text_is_repaired(misreading):
    broken = [(text, text.encode("utf-8").decode(misreading)) for text in REPLICA_TEXTS]
    assert len(broken) > 500
    assert [text for text, garbled in broken if repair_mojibake(garbled) != text] == []


@pytest.mark.parametrize("misreading", MISREADINGS)
@pytest.mark.parametrize("title", ["Bakıda yağış", "Ölkə", "Путин", "Café «Nur»", "İlham Əliyev: “Şuşa”"])
def test_a_card_title_garbled_by_its_listing_is_the_same_title(title, misreading):
    assert display_text(title.encode("utf-8").decode(misreading)) == display_text(title) == title


# --- which charset a page is read in ------------------------------------------------------

RU_TEXT = "Президент принял делегацию. Встреча прошла в Баку, стороны обсудили сотрудничество. " * 6


def _page(text: str, meta: str = "") -> str:
    head = f'<meta charset="{meta}">' if meta else ""
    return f"<html><head>{head}<title>t</title></head><body><p>{text}</p></body></html>"


@pytest.mark.parametrize("header", ["text/html; charset=windows-1251", "text/html; charset=iso-8859-1",
                                    "text/html; charset=koi8-r", "text/html", None])
@pytest.mark.parametrize("meta", ["", "windows-1251", "utf-8"])
def test_bytes_that_are_utf8_are_read_as_utf8_whatever_the_labels_say(header, meta):
    assert decide_charset(_page(RU_TEXT, meta).encode("utf-8"), header) == ("utf-8", "utf8")


def test_other_bytes_bom_then_meta_then_header_then_detection():
    cp1251 = _page(RU_TEXT, "windows-1251").encode("cp1251")
    assert decide_charset(cp1251, "text/html; charset=koi8-r") == ("cp1251", "meta")
    assert decide_charset(_page(RU_TEXT).encode("cp1251"), "text/html; charset=windows-1251") == ("cp1251", "header")
    # A label that says UTF-8 of bytes that are not is no label.
    assert decide_charset(_page(RU_TEXT, "utf-8").encode("cp1251"), "text/html; charset=cp1251") == \
        ("cp1251", "header")
    assert decide_charset(_page(RU_TEXT).encode("cp1251"), "text/html; charset=utf-8") == ("cp1251", "detected")
    assert decide_charset(_page(RU_TEXT).encode("koi8-r"), None) == ("koi8-r", "detected")
    utf16 = codecs.BOM_UTF16_LE + _page(RU_TEXT, "windows-1251").encode("utf-16-le")
    assert decide_charset(utf16, "text/html; charset=windows-1251") == ("utf-16-le", "bom")


ARTICLE = {
    "az": ("https://report.az/energetika/socar-cin-sirketi", "SOCAR və Çin şirkəti Şuşada görüşüb",
           "Prezident İlham Əliyev Çin şirkətinin nümayəndə heyətini qəbul edib, ölkələr arasında əməkdaşlıq "
           "müzakirə olunub."),
    "en": ("https://report.az/en/energy/socar-chinese-company", "SOCAR, Chinese сompany – “explore” deals",
           "Report informs, citing the ministry, that the sides discussed cooperation in the energy sector."),
    "ru": ("https://report.az/ru/energetika/socar-kitajskaya-kompaniya", "SOCAR и китайская компания — «Шуша»",
           "Как сообщает Report, стороны обсудили сотрудничество в энергетической сфере и подписали документ."),
}


@pytest.mark.parametrize("language", ["az", "en", "ru"])
@pytest.mark.parametrize("header", ["text/html; charset=windows-1251", "text/html; charset=iso-8859-1",
                                    "text/html; charset=koi8-r"])
def test_a_page_whose_header_lies_gives_the_text_it_shows(language, header):
    url, title, paragraph = ARTICLE[language]
    html = article_page(f"<p>{paragraph}</p>").replace(">A title<", f">{title}<")
    item = extract_page(html.encode("utf-8"), header, url).item
    assert (item["title"], item["body"]) == (title, paragraph)


def test_a_page_really_in_windows_1251_with_references_for_what_it_lacks():
    url, title, paragraph = ARTICLE["az"]
    html = article_page(f"<p>{paragraph}</p>", head='<meta charset="windows-1251">').replace(">A title<", f">{title}<")
    item = extract_page(html.encode("cp1251", errors="xmlcharrefreplace"), "text/html", url).item
    assert (item["title"], item["body"]) == (title, paragraph)
