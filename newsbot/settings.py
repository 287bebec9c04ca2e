"""Scrapy settings for newsbot. Every NEWSBOT_* setting can be overridden with -s or per Scrapyd job."""

BOT_NAME = "newsbot"
SPIDER_MODULES = ["newsbot.spiders"]
NEWSPIDER_MODULE = "newsbot.spiders"
COMMANDS_MODULE = "newsbot.commands"

# --- What to crawl -------------------------------------------------------
# The site root; tests and the offline demo point this at the replica.
NEWSBOT_BASE_URL = "https://report.az"
# Editions crawled when a spider gets no -a lang=.
NEWSBOT_LANGUAGES = ["az", "en", "ru"]
# How far back `latest` goes when neither -a since= nor an earlier complete run bounds it.
# Older news is the category spider's job (backfill); "" walks the whole feed.
NEWSBOT_LATEST_SINCE = "3d"
# Render listings with Chromium: "auto" (only when a listing has no cards in its HTML), "always", "never".
NEWSBOT_JS_MODE = "auto"
# Scroll steps when a listing is rendered in the browser.
NEWSBOT_JS_SCROLLS = 3

# --- Where the data goes -------------------------------------------------
# The store, the default output and the memory of incremental crawls: an SQLite file, or a
# postgresql://user:password@host/database URL that several nodes share (docs/scrapyd.md). The
# password may also come from ~/.pgpass or PGPASSWORD, which keep it out of settings files.
NEWSBOT_DB = "data/newsbot.sqlite"
# A JSON Lines file of every article kept ("" to turn off): with a store, its journal, written in
# each transaction (each article once, under the store's ids); without one, as items arrive.
# Scrapy's FEEDS / -O work alongside.
NEWSBOT_JSONL = ""
# Rows per store transaction. Bigger batches index faster (FTS5 writes one segment per
# commit); a killed crawl loses its uncommitted items from the store, and the next run fetches them again.
NEWSBOT_DB_BATCH_SIZE = 2000
# Seconds after which items waiting for a full batch are committed anyway (0: only full batches).
NEWSBOT_DB_FLUSH_INTERVAL = 10.0
# Seconds to wait on a locked database before a write is retried.
NEWSBOT_DB_TIMEOUT = 30.0
# A directory for the raw-page archive ("" = off): every article page as fetched, one gzipped WARC
# file per crawl, which `scrapy reextract` reads (docs/archive.md). Needs the `archive` extra.
NEWSBOT_ARCHIVE = ""

# --- Crawl health --------------------------------------------------------
# Close as "extraction_degraded" when more than this share of article pages lack a required field.
NEWSBOT_DEGRADED_THRESHOLD = 0.2
# ...but only judge once this many article pages were seen.
NEWSBOT_DEGRADED_MIN_PAGES = 20
# Optional fields' fill rates and furniture leaking into stories, judged when a crawl's work is done
# (newsbot/monitors.py; docs/crawling.md, "Crawl health"). The floors are low on purpose: the share
# of a real site's stories with other editions, tags or photos is not known, and a false alarm on
# every crawl is as bad as none. -s takes JSON and replaces the whole dict.
NEWSBOT_FILL_FLOORS = {"translations": 0.05, "tags": 0.05, "images": 0.05, "known_category": 0.05}
NEWSBOT_FILL_HISTORY_RUNS = 10
NEWSBOT_FILL_HISTORY_MIN_RUNS = 3
NEWSBOT_FILL_HISTORY_RATIO = 0.5
# Real reporting repeats background sentences, and a crawl of one edition or one category
# concentrates them, so the paragraph check sits well above what clean crawls reach; a story's photo
# is its own, shown at most by its editions. 1 turns a check off.
NEWSBOT_LEAK_SHARE = 0.3
NEWSBOT_LEAK_MIN_STORIES = 10
NEWSBOT_LEAK_IMAGE_SHARE = 0.05
NEWSBOT_LEAK_IMAGE_MIN_STORIES = 5
# Close as "too_many_errors" when more than this share of pages was lost or, for listings, failed
# (newsbot.outcome; docs/crawling.md, "Close reasons and exit codes").
NEWSBOT_ERROR_THRESHOLD = 0.5
# Close as "blocked" (at once, the queue left) after this many block answers in a row: HTTP 403 or
# 429, or a WAF's challenge page (newsbot/site/block.py); counted as newsbot/blocked/<status|challenge>.
# A lone 429 is retried after its Retry-After. 0 turns the check off.
NEWSBOT_BLOCK_AFTER = 5

# A category walk's next page (a sitemap's next shard) waits while the scheduler holds this many
# requests, so memory stays flat with the size of a backfill (a jump on cumulative pages or a shard
# can add thousands). 0 turns the pacing off; a crawl with JOBDIR (queue on disk) is never paced.
NEWSBOT_WALK_BACKLOG = 1000

# The telnet console logs its password at INFO, and Scrapyd serves crawl logs: on only when asked
# for (-s TELNETCONSOLE_ENABLED=1).
TELNETCONSOLE_ENABLED = False

# --- Politeness ----------------------------------------------------------
USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot/newsbot; news archive crawler)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
# A callback here yields one item or a page of requests, and no pipeline waits on I/O (the SQLite
# writer has its own thread); Scrapy 2.19 starts CONCURRENT_ITEMS asyncio workers per callback
# output, so anything above 1 is CPU spent for nothing (bench/RESULTS.md).
CONCURRENT_ITEMS = 1
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 4
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Seconds before the first retry, doubled for each next one; a 429's or 503's Retry-After wins.
# No wait is longer than NEWSBOT_RETRY_BACKOFF_MAX.
NEWSBOT_RETRY_BACKOFF = 1.0
# Retries go before new pages (Scrapy's default, -1, sends them after every page queued): a page is
# done, stored or given up, before the next ones start, so too_many_errors is judged on the way.
RETRY_PRIORITY_ADJUST = 1
NEWSBOT_RETRY_BACKOFF_MAX = 60.0
REDIRECT_MAX_TIMES = 5
# Far above any real page: anything past this is not an article page.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024

DOWNLOADER_MIDDLEWARES = {
    # Replaces Scrapy's RetryMiddleware: exponential backoff and 429 Retry-After.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "newsbot.middlewares.BackoffRetryMiddleware": 550,
    # Between decompression (590) and the retries: sees every answer, retried ones included.
    "newsbot.middlewares.BlockDetectorMiddleware": 580,
    # Above the retries (550), whose exceptions it sees first: an unreachable site is not retried.
    "newsbot.middlewares.UnreachableSiteMiddleware": 560,
    # Low number: sees responses last, after decompression.
    "newsbot.middlewares.CharsetMiddleware": 100,
    # Scrapy's meta refresh handling, at its place (580), without decoding every page to look.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "newsbot.middlewares.QuickMetaRefreshMiddleware": 580,
}

SPIDER_MIDDLEWARES = {
    # The raw-page archive (off unless NEWSBOT_ARCHIVE is set). Near the spider: it sees article
    # pages exactly as parse_article does, after the HTTP error filter (50) let them through.
    "newsbot.archive.writer.ArchiveMiddleware": 950,
}

# The store is the crawl's memory: a seen-set persisted in JOBDIR can outlive the
# items it stands for after a hard kill, so request de-duplication stays in memory.
DUPEFILTER_CLASS = "newsbot.dupefilter.InMemoryDupeFilter"

# Each pipeline does one thing; turn one off with -s 'ITEM_PIPELINES={"newsbot.pipelines.jsonlines.JsonLinesPipeline": None}'.
ITEM_PIPELINES = {
    "newsbot.pipelines.validate.ValidationPipeline": 100,
    "newsbot.pipelines.dedupe.DedupePipeline": 200,
    "newsbot.pipelines.jsonlines.JsonLinesPipeline": 800,
    "newsbot.pipelines.store.StorePipeline": 900,
}

# Seconds between progress lines while a crawl runs (newsbot.extensions.Progress; 0: none), and while
# `scrapy export` writes a file. They replace Scrapy's own LogStats line, which gives no totals, no
# new articles and no ETA.
NEWSBOT_PROGRESS_INTERVAL = 10.0
LOGSTATS_INTERVAL = 0

EXTENSIONS = {
    "newsbot.extensions.Progress": 120,
    # Crawl health: what extraction gave, judged by the checks of newsbot.monitors (each off by its setting).
    "newsbot.extensions.CrawlHealth": 500,
    # How the crawl ends: the close reason, the exit status and lost pages (too_many_errors). After
    # Scrapy's CoreStats, whose finish_reason it corrects, and after crawl health, whose reasons
    # (no_listings, extraction_degraded) say more than a share of lost pages; never off.
    "newsbot.outcome.CrawlOutcome": 550,
}

# --- Browser (only used for listings rendered by script) -----------------
# The Playwright download handler is installed by the listing spiders for the
# scheme of NEWSBOT_BASE_URL only (see NewsbotSpider.update_settings): each
# handler instance starts its own driver, and one per scheme is wasted work.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    # Debian's Chromium: Playwright's own browser download cannot run here.
    "executable_path": "/usr/bin/chromium",
    "headless": True,
    "args": [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    ],
}
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_ABORT_REQUEST = "newsbot.rendering.abort_request"
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
# Requests without meta["playwright"] go through Scrapy's plain HTTP handler.
PLAYWRIGHT_PROCESS_REQUEST_HEADERS = None

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
