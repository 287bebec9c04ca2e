"""Usage errors (issue 13): a bad argument or path is one line on stderr and exit 2, before any request;
the article spider judges small crawls; a truncated page fetched again copies no download-time meta."""

from __future__ import annotations

import pytest

from newsbot.store import Store
from tests.crawling import scrapy_cli
from tests.test_store import make_item


def crawl_cli(site, tmp_path, *args: str, **settings: str):
    options = [item for key, value in {"NEWSBOT_BASE_URL": site.base_url, "NEWSBOT_DB": str(tmp_path / "n.sqlite"),
                                       "AUTOTHROTTLE_ENABLED": "0", "NEWSBOT_LATEST_SINCE": "", "RETRY_TIMES": "1",
                                       **settings}.items() for item in ("-s", f"{key}={value}")]
    return scrapy_cli("crawl", *args, *options, timeout=180)


def assert_usage_error(result, *expected: str) -> str:
    """Exit 2, and stderr is exactly one line: the error, no traceback, no log."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr[-3000:]
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def assert_no_request(site) -> None:
    assert site.hits()["total"] == 0, site.hits()


@pytest.fixture
def site(replica):
    running = replica(stories=12)
    running.hits(reset=True)
    return running


@pytest.mark.parametrize("spider, argument, message", [
    ("latest", "since=yesterday", "crawl: error: since: not a date, datetime or duration (like 6h, 2d): 'yesterday'"),
    ("latest", "lang=xx", "crawl: error: lang must be a comma-separated subset of az,en,ru; got 'xx'"),
    ("latest", "max_pages=-1", "crawl: error: max_pages must be at least 1; got '-1'"),
    ("category", "max_pages=two", "crawl: error: max_pages: not a whole number: 'two'"),
    ("category", "until=soon", "crawl: error: until: not a date"),
    ("latest", "since=99999999999d", "crawl: error: since: a duration back past the year 1: '99999999999d'"),
    ("latest", "sinse=6h", "crawl: error: sinse: not an argument of latest; it takes lang, since, until, max_pages, "
                           "refresh"),
    ("category", "categroy=energy", "crawl: error: categroy: not an argument of category; it takes category, lang, "),
])
def test_a_bad_spider_argument_is_one_line_and_exit_2(site, tmp_path, spider, argument, message):
    result = crawl_cli(site, tmp_path, spider, "-a", argument)
    assert_usage_error(result, message)
    assert_no_request(site)


@pytest.mark.parametrize("option, message", [
    (["-a", "sinse=6h"], "schedule: error: sinse: not an argument of latest; it takes lang, since,"),
    (["-a", "since=yesterday"], "schedule: error: since: not a date, datetime or duration"),
    (["-s", "NEWSBOT_DB_BATCH_SIZE=0"], "schedule: error: NEWSBOT_DB_BATCH_SIZE must be at least 1; got 0"),
])
def test_schedule_checks_the_jobs_arguments_before_sending_it(site, option, message):
    # The replica stands in for the Scrapyd URL: any request sent would show in its hits.
    result = scrapy_cli("schedule", "latest", "--url", site.base_url, *option)
    assert_usage_error(result, message)
    assert_no_request(site)


@pytest.mark.parametrize("command, message", [
    (["merge"], "merge: error: Give at least one shard to merge"),
    (["schedule", "latest", "category"], "schedule: error: Give at most one spider"),
    (["schedule", "--url", "ftp://127.0.0.1/"], "schedule: error: Scrapyd URL must start with http:// or https://"),
    (["schedule", "-a", "jobid=7"], "schedule: error: Spider argument name(s) jobid are Scrapyd's own parameters"),
])
def test_merge_and_schedule_say_a_usage_error_in_one_line(command, message):
    assert_usage_error(scrapy_cli(*command), message)


@pytest.mark.parametrize("setting, value, message", [
    ("NEWSBOT_LEAK_SHARE", "0", "crawl: error: NEWSBOT_LEAK_SHARE must be a share above 0 (1 turns the check off); got 0.0"),
    ("NEWSBOT_LEAK_SHARE", "a lot", "crawl: error: NEWSBOT_LEAK_SHARE must be a number; got 'a lot'"),
    ("NEWSBOT_LEAK_MIN_STORIES", "0", "crawl: error: NEWSBOT_LEAK_MIN_STORIES must be at least 1; got 0"),
    ("NEWSBOT_LEAK_MIN_STORIES", "5.5", "crawl: error: NEWSBOT_LEAK_MIN_STORIES must be a whole number; got '5.5'"),
    ("NEWSBOT_LEAK_IMAGE_SHARE", "-1", "crawl: error: NEWSBOT_LEAK_IMAGE_SHARE must be a share above 0 (1 turns the "
                                       "check off); got -1.0"),
    ("NEWSBOT_LEAK_IMAGE_MIN_STORIES", "0", "crawl: error: NEWSBOT_LEAK_IMAGE_MIN_STORIES must be at least 1; got 0"),
    ("NEWSBOT_DEGRADED_THRESHOLD", "high", "crawl: error: NEWSBOT_DEGRADED_THRESHOLD must be a number; got 'high'"),
    ("NEWSBOT_LATEST_SINCE", "garbage", "crawl: error: NEWSBOT_LATEST_SINCE must be a date, datetime or duration "
                                        "(like 6h, 2d), or empty; got 'garbage'"),
    ("NEWSBOT_LATEST_SINCE", "99999999999d", "crawl: error: NEWSBOT_LATEST_SINCE must be a date, "),
    ("NEWSBOT_JSONL", "x/%(nope)s.jsonl", "crawl: error: NEWSBOT_JSONL names %(nope)s, but the spider has no "
                                          "attribute 'nope'"),
    ("NEWSBOT_ARCHIVE", "x/%(nope)s", "crawl: error: NEWSBOT_ARCHIVE names %(nope)s, but the spider has no "
                                      "attribute 'nope'"),
    ("NEWSBOT_BASE_URL", "notaurl", "crawl: error: NEWSBOT_BASE_URL must be an http or https URL, like "
                                    "https://report.az; got 'notaurl'"),
    ("NEWSBOT_BASE_URL", "ftp://127.0.0.1/", "crawl: error: NEWSBOT_BASE_URL must be an http or https URL"),
    ("NEWSBOT_FILL_FLOORS", "notjson", "crawl: error: NEWSBOT_FILL_FLOORS must be a JSON object; got 'notjson'"),
    ("NEWSBOT_FILL_FLOORS", '{"tags": 5}', "crawl: error: NEWSBOT_FILL_FLOORS must be a JSON object of fields and "
                                           "shares from 0 to 1"),
    ("NEWSBOT_ERROR_THRESHOLD", "abc", "crawl: error: NEWSBOT_ERROR_THRESHOLD must be a number; got 'abc'"),
    ("NEWSBOT_ERROR_THRESHOLD", "50", "crawl: error: NEWSBOT_ERROR_THRESHOLD must be a share from 0 to 1; got 50.0"),
    ("NEWSBOT_DB_BATCH_SIZE", "abc", "crawl: error: NEWSBOT_DB_BATCH_SIZE must be a whole number; got 'abc'"),
    ("NEWSBOT_DB_BATCH_SIZE", "0", "crawl: error: NEWSBOT_DB_BATCH_SIZE must be at least 1; got 0"),
    ("NEWSBOT_DB_BATCH_SIZE", "-1", "crawl: error: NEWSBOT_DB_BATCH_SIZE must be at least 1; got -1"),
    ("NEWSBOT_LANGUAGES", "xx", "crawl: error: NEWSBOT_LANGUAGES must be a comma-separated subset of az,en,ru"),
    ("NEWSBOT_BLOCK_AFTER", "-1", "crawl: error: NEWSBOT_BLOCK_AFTER must be at least 0; got -1"),
    ("NEWSBOT_WALK_BACKLOG", "-5", "crawl: error: NEWSBOT_WALK_BACKLOG must be at least 0; got -5"),
    ("NEWSBOT_DB_TIMEOUT", "-1", "crawl: error: NEWSBOT_DB_TIMEOUT must be at least 0; got -1.0"),
])
def test_a_bad_setting_is_one_line_naming_it_and_exit_2(site, tmp_path, setting, value, message):
    result = crawl_cli(site, tmp_path, "latest", **{setting: value})
    assert_usage_error(result, message)
    assert_no_request(site)


def test_an_unknown_spider_is_one_line_naming_the_spiders(site, tmp_path):
    result = crawl_cli(site, tmp_path, "nosuch")
    assert_usage_error(result, "crawl: error: no spider named 'nosuch'; the spiders are article, category, latest, "
                               "sitemap")
    assert_no_request(site)


def test_the_arguments_scrapyd_adds_are_taken(site, tmp_path):
    # What scrapyd/webservice.py's Schedule passes on as -a besides the job's own arguments.
    result = crawl_cli(site, tmp_path, "latest", "-a", "lang=en", "-a", "max_pages=1", "-a", "_job=job-1",
                       "-a", "_version=r7", "-a", "setting=LOG_LEVEL=INFO",
                       NEWSBOT_JSONL=str(tmp_path / "%(_job)s.jsonl"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "job-1.jsonl").stat().st_size > 0


def test_an_unknown_category_key_is_named_with_the_known_keys(site, tmp_path):
    result = crawl_cli(site, tmp_path, "category", "-a", "category=energy,nonexistent")
    line = assert_usage_error(result, "crawl: error: category: unknown key nonexistent; the keys are ")
    assert "energy" in line and "foreign-politics" in line and "sports" in line
    assert_no_request(site)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "http://other.example/en/energy/some-story/",
                                 "http://other.example/", "/en/", "ftp://127.0.0.1/en/energy/some-story/"])
def test_an_article_crawl_without_an_article_url_of_the_site_makes_no_request(site, tmp_path, url):
    result = crawl_cli(site, tmp_path, "article", "-a", f"url={url}")
    assert_usage_error(result, "crawl: error: url: not an article URL of ", repr(url))
    assert_no_request(site)


def test_a_urls_file_is_summarised_never_echoed(site, tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n# a comment\n\nalice:s3cret-token:1000\n", encoding="utf-8")
    result = crawl_cli(site, tmp_path, "article", "-a", f"urls_file={secret}")
    assert_usage_error(result, f"crawl: error: urls_file {secret}: 0 article URLs, 2 lines skipped (first: line 1)")
    assert "root" not in result.stderr.replace(str(tmp_path), "") and "s3cret" not in result.stderr
    assert_no_request(site)
    # A system file: the same, one counted line.
    system = crawl_cli(site, tmp_path, "article", "-a", "urls_file=/etc/passwd")
    assert_usage_error(system, "crawl: error: urls_file /etc/passwd: 0 article URLs, ", "(first: line 1)")
    assert "/bin/" not in system.stderr
    for path, problem in (("/nonexistent/urls.txt", "no such file"), ("/etc", "not a regular file")):
        assert_usage_error(crawl_cli(site, tmp_path, "article", "-a", f"urls_file={path}"),
                           f"crawl: error: urls_file {path}: {problem}")
    assert_no_request(site)


def test_a_urls_file_with_some_articles_crawls_them_and_counts_the_rest(site, tmp_path):
    article = site.ground_truth()[0]["url"]
    mixed = tmp_path / "urls.txt"
    mixed.write_text(f"root:x:0:0:hidden-line\n{article}\nhttp://other.example/en/energy/x/\n", encoding="utf-8")
    result = crawl_cli(site, tmp_path, "article", "-a", f"urls_file={mixed}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"urls_file {mixed}: 1 article URL, 2 lines skipped (first: line 1)" in result.stderr
    assert "hidden-line" not in result.stderr and "other.example" not in result.stderr
    assert "'newsbot/skipped/not_an_article_url': 2" in result.stderr


def test_an_article_crawl_of_one_page_that_is_no_article_exits_1(replica, tmp_path):
    site = replica(stories=12, faults=[{"match": r"^/en/[^/]+/[^/]+", "mode": "empty"}])
    article = next(t["url"] for t in site.ground_truth() if t["language"] == "en")
    result = crawl_cli(site, tmp_path, "article", "-a", f"url={article}")
    assert result.returncode == 1, result.stderr[-3000:]
    assert "'finish_reason': 'no_articles'" in result.stderr
    assert "Crawl is broken (no_articles): none of the 1 page(s) given is an article" in result.stderr
    # A page that is not there is no article either.
    missing = crawl_cli(site, tmp_path, "article", "-a", f"url={site.base_url}/en/energy/no-such-story/")
    assert missing.returncode == 1, missing.stderr[-3000:]
    # One real article is a finished crawl.
    fine = next(t["url"] for t in site.ground_truth() if t["language"] == "az")
    ok = crawl_cli(site, tmp_path, "article", "-a", f"url={fine}")
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert "'finish_reason': 'finished'" in ok.stderr


def test_a_truncated_page_fetched_again_copies_no_download_meta(replica, tmp_path):
    site = replica(stories=12, faults=[{"match": r"^/en/[^/]+/[^/]+", "mode": "truncate", "times": 1}])
    article = next(t["url"] for t in site.ground_truth() if t["language"] == "en")
    result = crawl_cli(site, tmp_path, "article", "-a", f"url={article}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'retry/reason_count/truncated_html': 1" in result.stderr
    assert "'item_scraped_count': 1" in result.stderr
    assert "metacopy.MetaCopyDetectionMiddleware" in result.stderr  # enabled (the listing of middlewares)
    assert "copied from response.meta" not in result.stderr


def test_a_truncated_page_is_refetched_only_within_the_retry_limit(replica, tmp_path):
    site = replica(stories=12, faults=[{"match": r"^/en/[^/]+/[^/]+", "mode": "truncate"}])
    article = next(t["url"] for t in site.ground_truth() if t["language"] == "en")
    result = crawl_cli(site, tmp_path, "article", "-a", f"url={article}", RETRY_TIMES="2")
    assert result.returncode == 1, result.stderr[-3000:]
    assert "'newsbot/dropped/truncated': 1" in result.stderr
    path = article.split("//", 1)[1].split("/", 1)[1]
    assert site.hits()["paths"].get("/" + path) == 3, site.hits()  # the first fetch and two refetches
    assert "copied from response.meta" not in result.stderr


@pytest.mark.parametrize("command", [
    ["report", "-o", "{tmp}/report.html"], ["stats"], ["export", "-o", "{tmp}/out.jsonl"], ["browse", "--port", "1"],
    ["reextract", "--archive", "{tmp}/archive"], ["merge", "{tmp}/shard.sqlite"],
])
def test_a_command_with_a_bad_setting_is_one_line_naming_it_and_exit_2(tmp_path, command):
    # Given --db too: a bad setting beside it is said, not ignored. Report's other bad input:
    # tests/test_analysis.py, test_bad_input_is_one_line_and_exit_2.
    db = tmp_path / "news.sqlite"
    with Store(db) as store:
        store.write([make_item(1, "en")])
    (tmp_path / "shard.sqlite").write_bytes(db.read_bytes())
    (tmp_path / "archive").mkdir()
    result = scrapy_cli(*(word.format(tmp=tmp_path) for word in command), "--db", str(db),
                        "-s", "NEWSBOT_DB_BATCH_SIZE=0")
    assert_usage_error(result, f"{command[0]}: error: NEWSBOT_DB_BATCH_SIZE must be at least 1; got 0")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["archive", "news.sqlite", "shard.sqlite"]


@pytest.mark.parametrize("where, problem", [("missing/dir/out.jsonl", "no such directory"), ("", "is a directory")])
def test_export_to_a_bad_output_path_is_one_line_and_exit_2(tmp_path, where, problem):
    db = tmp_path / "news.sqlite"
    with Store(db) as store:
        store.write([make_item(1, "en")])
    output = str(tmp_path / where) if where else str(tmp_path)
    result = scrapy_cli("export", "--db", str(db), "-o", output)
    assert_usage_error(result, f"export: error: -o {output}: {problem}")
