"""Article URLs as the site writes them: real crawls of a replica whose pages have one spelling each.

On the replica (as on the live site) an article's links have no trailing slash in the current
design and one in the older design; the other spelling answers 301 or 404 (--other-spelling).
A crawler that adds or strips the slash either pays a redirect per article or loses the article.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import pytest_twisted

from newsbot.normalize import url_key
from tests.crawling import assert_matches_ground_truth, crawl, crawl_settings
from tests.replica.content import Corpus

STORIES = 60


def path_of(url: str) -> str:
    return urlsplit(url).path


def other_spelling(path: str) -> str:
    return path[:-1] if path.endswith("/") else path + "/"


def assert_each_article_requested_once(hits: dict, truth: list[dict]) -> None:
    """Every ground-truth page fetched exactly once, in its own spelling; none in the other."""
    paths = hits["paths"]
    expected = {path_of(t["url"]) for t in truth}
    assert {p for p in expected if paths.get(p) != 1} == set(), "article pages not requested exactly once"
    assert {other_spelling(p) for p in expected} & set(paths) == set(), "other spellings requested"
    # Both spellings occur, so the test would catch a crawler that adds or strips the slash.
    assert {p.endswith("/") for p in expected} == {True, False}


@pytest.mark.parametrize("mode", ["301", "404"])
@pytest_twisted.ensureDeferred
async def test_latest_and_category_request_each_article_once_as_linked(replica, tmp_path, mode):
    site = replica(stories=STORIES, other_spelling=mode)
    truth = site.ground_truth()
    for spider in ("latest", "category"):
        site.hits(reset=True)
        result = await crawl(spider, crawl_settings(site.base_url, tmp_path / f"{spider}.sqlite"))
        assert result.reason == "finished" and result.errors == 0, spider
        assert_matches_ground_truth(result.items, truth)
        hits = site.hits()
        assert_each_article_requested_once(hits, truth)
        # Listings too are requested as the navigation and pagination write them (no slash added).
        articles = {path_of(t["url"]) for t in truth}
        slashed = {p for p in hits["paths"] if p.endswith("/") and p not in {"/", "/en/", "/ru/"} | articles}
        assert slashed == set(), spider
        assert result.stat("downloader/response_status_count/301") == 0
        assert result.stat("newsbot/pages/article") == len(truth)


def _current_and_legacy(site) -> list[dict]:
    truth = site.ground_truth()
    return [next(t for t in truth if not t["url"].endswith("/")), next(t for t in truth if t["url"].endswith("/"))]


@pytest_twisted.ensureDeferred
async def test_a_link_in_the_other_spelling_follows_the_301_to_one_article(replica, tmp_path):
    site = replica(stories=20, other_spelling="301")
    pages = _current_and_legacy(site)
    given = [site.base_url + other_spelling(path_of(t["url"])) for t in pages]
    result = await crawl("article", crawl_settings(site.base_url, tmp_path / "a.sqlite"), url=",".join(given))
    assert result.reason == "finished" and result.errors == 0
    # The stored article is the page as fetched after the redirect: the canonical spelling.
    assert_matches_ground_truth(result.items, pages)
    assert result.stat("downloader/response_status_count/301") == 2
    paths = site.hits()["paths"]
    for t in pages:
        assert paths[path_of(t["url"])] == 1 and paths[other_spelling(path_of(t["url"]))] == 1


@pytest_twisted.ensureDeferred
async def test_a_link_in_the_other_spelling_on_a_404_site_is_a_failed_page(replica, tmp_path):
    site = replica(stories=20, other_spelling="404")
    current = _current_and_legacy(site)[0]
    result = await crawl("article", crawl_settings(site.base_url, tmp_path / "b.sqlite"),
                         url=site.base_url + other_spelling(path_of(current["url"])))
    assert result.items == []
    assert result.stat("newsbot/pages/article_failed") == 1
    # Judged broken by the health checks (one page given, and it failed), not crashed.
    assert result.reason in ("too_many_errors", "no_articles")
    assert not [k for k in result.stats if k.startswith("spider_exceptions/")]
    assert path_of(current["url"]) not in site.hits()["paths"]


@pytest_twisted.ensureDeferred
async def test_one_page_given_in_both_spellings_is_requested_once(replica, tmp_path):
    site = replica(stories=20, other_spelling="serve")
    record = _current_and_legacy(site)[0]
    path = path_of(record["url"])
    given = f"{site.base_url}{path},{site.base_url}{other_spelling(path)}#share"
    result = await crawl("article", crawl_settings(site.base_url, tmp_path / "c.sqlite"), url=given)
    assert_matches_ground_truth(result.items, [record])
    assert result.stat("newsbot/requests/same_article") == 1
    paths = site.hits()["paths"]
    assert paths.get(path) == 1 and other_spelling(path) not in paths


def test_every_article_of_the_corpus_has_one_spelling_by_design():
    corpus = Corpus(300)
    for story in corpus.stories:
        for lang in story.langs:
            path = corpus.path(story, lang)
            assert path.endswith("/") == (corpus.layout(story.index, lang).version == "legacy")
            assert url_key(path) == path.rstrip("/")
