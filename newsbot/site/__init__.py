"""Everything newsbot knows about report.az (README, code map), so a redesign changes this package
only. Facts marked "unconfirmed" in shared/site/REPORT_AZ.md always have a fallback."""

from newsbot.site.block import BLOCK_STATUSES, is_challenge
from newsbot.site.furniture import PHRASINGS as FURNITURE_PHRASINGS
from newsbot.site.furniture import rule_for as furniture_rule
from newsbot.site.markup import (CARD, MARKUPS, UNKNOWN_VERSION, compiled, feed_endpoint, find_nav_links,
                                 has_card_container, has_pagination, looks_truncated, next_page_url,
                                 pagination_links, selectors)
from newsbot.site.sitemaps import (NEWS_SITEMAP_PATH, SITEMAP_INDEX_PATH, SITEMAP_TYPES,
                                   news_publication_dates, shard_spans)
from newsbot.site.urls import (DEFAULT_BASE_URL, LANGUAGES, SITE_HOSTS, Edition, Resolver,
                               category_segment_of_listing, is_article_url, is_story_photo, is_tag_path,
                               language_of_path, listing_page_number, site_id_of_short_link,
                               split_article_path)
from newsbot.site.words import LATEST_LABELS, LINK_LABELS
