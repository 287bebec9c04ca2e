"""The article item: one per edition page, the same fields whatever the edition."""

from typing import Any

import scrapy


class ArticleItem(scrapy.Item):
    url = scrapy.Field()               # canonical absolute URL
    article_id = scrapy.Field()        # stable 16-hex id of the canonical path
    site_id = scrapy.Field()           # the site's own numeric article id (short link report.az/2844552), or None
    source = scrapy.Field()            # "report.az"
    language = scrapy.Field()          # az | en | ru
    title = scrapy.Field()
    lead = scrapy.Field()              # first real paragraph
    body = scrapy.Field()              # real paragraphs joined by blank lines
    word_count = scrapy.Field()
    published_at = scrapy.Field()      # ISO 8601, +04:00 (Baku); "" when the page's date is unreadable
    published_at_utc = scrapy.Field()  # the same instant, ISO 8601 with Z
    category = scrapy.Field()          # display name as the edition shows it
    category_slug = scrapy.Field()     # language-independent key shared by all editions
    tags = scrapy.Field()              # list[str]
    images = scrapy.Field()            # list[{"url", "caption"}]
    translations = scrapy.Field()      # list[{"language", "url", "title"}] of the other editions
    story_id = scrapy.Field()          # the same for every edition of one story
    crawled_at = scrapy.Field()        # ISO 8601 UTC
    content_hash = scrapy.Field()      # sha256 of the editable content, to tell edits from duplicates

    def get(self, key: str, default: Any = None) -> Any:
        # Every pipeline reads fields with get(); Mapping.get goes through __getitem__ and a
        # try/except, about 4 times slower, and an article is read ~60 times on its way to disk.
        return self._values.get(key, default)


# The fields an article must have to be worth keeping; crawl health watches them.
REQUIRED_FIELDS = ("url", "article_id", "language", "title", "body", "published_at", "category_slug", "story_id")
# The fields compared against the replica's ground truth (crawled_at and content_hash depend on the run).
GROUND_TRUTH_FIELDS = tuple(f for f in ArticleItem.fields if f not in ("crawled_at", "content_hash"))
