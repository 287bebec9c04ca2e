-- newsbot store: schema version 2 -> 3.
-- New databases are made by running schema_v1.sql, migrate_v1_v2.sql and then this
-- file, so this is also the definition of everything v3 added (docs/schema.md shows
-- the result). Never edit it once released: add migrate_v3_v4.sql instead.
--
-- v3: articles.site_id, the site's own numeric article id (the short link
-- report.az/2844552), NULL when the page shows none and for every article stored
-- before v3 (a later crawl of the page fills it in); indexed, to find one article
-- again when its slug (and so its URL and article_id) changes. article_view shows it.

ALTER TABLE articles ADD COLUMN site_id INTEGER;

CREATE INDEX articles_site_id ON articles (site_id);

-- A view's column list is fixed when it is created: made again with site_id in the item's place.
DROP VIEW article_view;
CREATE VIEW article_view AS
SELECT a.url, a.article_id, a.site_id, a.source, a.language, a.title, a.lead, a.body, a.word_count,
       a.published_at, a.published_at_utc, a.category, a.category_slug,
       (SELECT json_group_array(tag)
          FROM (SELECT t.tag FROM tags AS t WHERE t.article_id = a.article_id ORDER BY t.position)) AS tags,
       (SELECT json_group_array(json_object('url', url, 'caption', caption))
          FROM (SELECT i.url, i.caption FROM images AS i
                WHERE i.article_id = a.article_id ORDER BY i.position)) AS images,
       (SELECT json_group_array(json_object('language', language, 'url', url, 'title', title))
          FROM (SELECT r.language, r.url, r.title FROM translations AS r
                WHERE r.article_id = a.article_id ORDER BY r.language)) AS translations,
       a.story_id, a.crawled_at, a.content_hash,
       substr(a.published_at, 1, 10) AS published_date,  -- Baku date; '' when the page had none
       a.revision, a.first_seen_at, a.last_crawled_at
FROM articles AS a;

PRAGMA user_version = 3;
