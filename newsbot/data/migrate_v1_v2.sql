-- newsbot store: schema version 1 -> 2.
-- New databases are made by running schema_v1.sql and then this file, so this is
-- also the definition of everything v2 added (docs/schema.md shows the result).
--
-- v2: images get their own table (v1 kept them as a JSON column), edits are kept
-- as revisions, full-text search over title and body, crawl runs record their
-- arguments and counts, feed coverage for incremental crawls, and views for
-- analysts (stories, story_editions, article_view).

CREATE TABLE images (
    article_id TEXT    NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    url        TEXT    NOT NULL,
    caption    TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (article_id, position)
) WITHOUT ROWID;

INSERT INTO images (article_id, position, url, caption)
SELECT a.article_id, CAST(j.key AS INTEGER), json_extract(j.value, '$.url'),
       coalesce(json_extract(j.value, '$.caption'), '')
FROM articles AS a, json_each(a.images) AS j
WHERE json_valid(a.images) AND json_extract(j.value, '$.url') IS NOT NULL;

ALTER TABLE articles DROP COLUMN images;

-- How many distinct contents this article has had; article_revisions holds them all once it is > 1.
ALTER TABLE articles ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;

CREATE INDEX articles_category ON articles (category_slug, published_at);

-- Every version of an edited article (revision 1 = first seen); nothing for never-edited ones.
CREATE TABLE article_revisions (
    article_id   TEXT    NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE,
    revision     INTEGER NOT NULL,
    content_hash TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    crawled_at   TEXT    NOT NULL,
    PRIMARY KEY (article_id, revision)
);

-- External-content FTS5 index: the text lives once, in articles; triggers keep the index in sync.
-- remove_diacritics 2 folds "İ" to "i" and "ş" to "s" so case and accents do not matter
-- ("ŞİRKƏTİ", "şirkəti" and "sirkəti" all find each other); "ə" and "ı" are letters of their own.
-- Written content="articles" (no spaces) so that Datasette recognises it as the index of articles.
CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, body,
    content="articles", content_rowid="id",
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');

CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
-- Only when the text really changed: an upsert of identical content must not rewrite the index.
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, body ON articles
WHEN old.title IS NOT new.title OR old.body IS NOT new.body BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO articles_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;

ALTER TABLE crawl_runs ADD COLUMN job_id TEXT;
ALTER TABLE crawl_runs ADD COLUMN arguments TEXT NOT NULL DEFAULT '{}';
ALTER TABLE crawl_runs ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE crawl_runs ADD COLUMN items_new INTEGER;
ALTER TABLE crawl_runs ADD COLUMN items_updated INTEGER;
ALTER TABLE crawl_runs ADD COLUMN items_unchanged INTEGER;
ALTER TABLE crawl_runs ADD COLUMN items_duplicate INTEGER;
ALTER TABLE crawl_runs ADD COLUMN items_dropped INTEGER;
ALTER TABLE crawl_runs ADD COLUMN stats TEXT;

-- The stretch of each edition's feed that an earlier complete run stored (card times, ISO 8601),
-- so the next incremental run of that spider knows where it may stop.
CREATE TABLE feed_coverage (
    spider     TEXT NOT NULL,
    language   TEXT NOT NULL,
    oldest     TEXT NOT NULL,
    newest     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (spider, language)
) WITHOUT ROWID;

-- One row per story: a view rather than a table, so it is right whoever wrote the articles.
CREATE VIEW stories AS
SELECT a.story_id,
       min(nullif(a.published_at, '')) AS first_published_at,
       max(nullif(a.published_at, '')) AS last_published_at,
       (SELECT group_concat(language)
          FROM (SELECT DISTINCT e.language FROM articles AS e
                WHERE e.story_id = a.story_id ORDER BY e.language)) AS languages,
       count(*) AS editions,
       min(a.first_seen_at) AS first_seen_at
FROM articles AS a
GROUP BY a.story_id;

-- One row per story with its editions side by side.
CREATE VIEW story_editions AS
SELECT story_id,
       min(nullif(published_at, '')) AS first_published_at,
       max(category_slug) AS category_slug,
       max(CASE language WHEN 'az' THEN title END) AS title_az,
       max(CASE language WHEN 'en' THEN title END) AS title_en,
       max(CASE language WHEN 'ru' THEN title END) AS title_ru,
       max(CASE language WHEN 'az' THEN url END) AS url_az,
       max(CASE language WHEN 'en' THEN url END) AS url_en,
       max(CASE language WHEN 'ru' THEN url END) AS url_ru
FROM articles
GROUP BY story_id;

-- One row per article in the item's shape (lists as JSON arrays), plus the store's bookkeeping.
CREATE VIEW article_view AS
SELECT a.url, a.article_id, a.source, a.language, a.title, a.lead, a.body, a.word_count,
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

PRAGMA user_version = 2;
