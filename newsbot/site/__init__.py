"""Everything newsbot knows about report.az, in one package.

- urls: hosts, editions, URL rules, the short link's numeric id
- words: month names, navigation labels, badges
- markup: one table per design generation (current, legacy), cards, and the
  structural facts the rules for unknown markup rely on
- furniture: the exact phrasings of page furniture inside bodies
- block: what its WAF answers (block statuses, challenge pages)
- sitemaps: the sitemap index and news sitemap paths, what shard names and entries say

A redesign of the site is a change to this package only. Facts marked
"unconfirmed" in shared/site/REPORT_AZ.md always have a fallback.
"""

from newsbot.site.block import BLOCK_STATUSES, CHALLENGE_MARKERS, is_challenge
from newsbot.site.furniture import PHRASINGS as FURNITURE_PHRASINGS
from newsbot.site.furniture import rule_for as furniture_rule
from newsbot.site.markup import (
    CARD,
    CARD_CATEGORY,
    CARD_LINK,
    CARD_TITLE,
    CURRENT,
    LEGACY,
    MARKUPS,
    UNKNOWN_VERSION,
    ArticleMarkup,
    compiled,
    feed_endpoint,
    find_nav_links,
    first_css,
    has_card_container,
    has_pagination,
    looks_truncated,
    next_page_url,
    pagination_links,
    selectors,
)
from newsbot.site.urls import (
    DEFAULT_BASE_URL,
    EDITION_PREFIX,
    LANGUAGES,
    SITE_HOSTS,
    Edition,
    Resolver,
    category_segment_of_listing,
    is_article_url,
    is_story_photo,
    is_tag_path,
    language_of_path,
    listing_page_number,
    site_id_of_short_link,
    split_article_path,
)
from newsbot.site.sitemaps import (
    NEWS_SITEMAP_PATH,
    SITEMAP_INDEX_PATH,
    SITEMAP_TYPES,
    news_publication_dates,
    shard_spans,
    shard_start,
)
from newsbot.site.words import LATEST_LABELS, LINK_LABELS, MONTHS

__all__ = [
    "BLOCK_STATUSES", "CHALLENGE_MARKERS", "is_challenge",
    "CARD", "CARD_CATEGORY", "CARD_LINK", "CARD_TITLE", "CURRENT", "DEFAULT_BASE_URL", "EDITION_PREFIX",
    "FURNITURE_PHRASINGS", "LANGUAGES", "LATEST_LABELS", "Resolver", "LEGACY", "LINK_LABELS", "MARKUPS", "MONTHS",
    "SITE_HOSTS", "UNKNOWN_VERSION", "ArticleMarkup", "Edition", "category_segment_of_listing", "compiled",
    "feed_endpoint", "find_nav_links", "first_css", "furniture_rule", "has_card_container",
    "has_pagination", "is_article_url", "is_story_photo", "is_tag_path", "language_of_path", "listing_page_number", "looks_truncated",
    "next_page_url", "pagination_links", "selectors", "site_id_of_short_link", "split_article_path",
    "NEWS_SITEMAP_PATH", "SITEMAP_INDEX_PATH", "SITEMAP_TYPES", "news_publication_dates",
    "shard_spans", "shard_start",
]
