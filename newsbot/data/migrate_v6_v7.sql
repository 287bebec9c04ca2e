-- newsbot store: schema version 6 -> 7.
-- New databases are made by running every earlier script and then this file, so this is also
-- the definition of everything v7 changed (docs/schema.md shows the result). Never edit it once
-- released: add migrate_v7_v8.sql instead.
--
-- v7, categories: the category table knows every slug of shared/site/REPORT_AZ.md, so keys an older
-- table derived from a slug (az `hadise`, ru `zdravookhranenie`) name a topic the table now keys in
-- English. What category_map learnt under the old table is forgotten; newsbot.store.identity.migrate_v7
-- then keys every article again and learns anew from its stories.
--
-- v7, article_id is the primary key of `articles`: the child tables' foreign keys name it, and
-- Datasette follows a foreign key to the primary key only (a tag row's article, an article's tags,
-- images and editions). `id` stays, unique, as the full-text index's rowid. SQLite cannot change a
-- primary key in place: the table is made again (newsbot.store.schema.migrate turns foreign keys off
-- around the migration, so dropping the old table deletes no child row, and checks them after).

DELETE FROM category_map;

DROP VIEW article_view;
DROP VIEW story_editions;
DROP VIEW stories;

CREATE TABLE articles_v7 (
    article_id       TEXT    NOT NULL PRIMARY KEY,
    url              TEXT    NOT NULL UNIQUE,
    site_id          INTEGER,
    source           TEXT    NOT NULL DEFAULT '',
    language         TEXT    NOT NULL,
    title            TEXT    NOT NULL,
    lead             TEXT    NOT NULL DEFAULT '',
    body             TEXT    NOT NULL,
    word_count       INTEGER NOT NULL DEFAULT 0,
    published_at     TEXT    NOT NULL DEFAULT '',
    published_at_utc TEXT    NOT NULL DEFAULT '',
    category         TEXT    NOT NULL DEFAULT '',
    category_slug    TEXT    NOT NULL DEFAULT '',
    story_id         TEXT    NOT NULL,
    crawled_at       TEXT    NOT NULL,
    content_hash     TEXT    NOT NULL,
    first_seen_at    TEXT    NOT NULL,
    last_crawled_at  TEXT    NOT NULL,
    revision         INTEGER NOT NULL DEFAULT 1,
    id               INTEGER NOT NULL UNIQUE  -- articles_fts's rowid; newsbot.store gives each new row the next
);
INSERT INTO articles_v7 (article_id, url, site_id, source, language, title, lead, body, word_count, published_at,
                         published_at_utc, category, category_slug, story_id, crawled_at, content_hash,
                         first_seen_at, last_crawled_at, revision, id)
SELECT article_id, url, site_id, source, language, title, lead, body, word_count, published_at,
       published_at_utc, category, category_slug, story_id, crawled_at, content_hash,
       first_seen_at, last_crawled_at, revision, id
FROM articles;
DROP TABLE articles;
ALTER TABLE articles_v7 RENAME TO articles;

CREATE INDEX articles_story ON articles (story_id);
CREATE INDEX articles_published ON articles (published_at);
CREATE INDEX articles_category ON articles (category_slug, published_at);
CREATE INDEX articles_site_id ON articles (site_id);

-- The full-text index keeps its rows: the ids it holds are the same.
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, body ON articles
WHEN old.title IS NOT new.title OR old.body IS NOT new.body BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO articles_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;

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

-- published_date next to the UTC instant, as in every export (newsbot.store.EXPORT_FIELDS).
CREATE VIEW article_view AS
SELECT a.url, a.article_id, a.site_id, a.source, a.language, a.title, a.lead, a.body, a.word_count,
       a.published_at, a.published_at_utc,
       substr(a.published_at, 1, 10) AS published_date,  -- Baku date; '' when the page had none
       a.category, a.category_slug,
       (SELECT json_group_array(tag)
          FROM (SELECT t.tag FROM tags AS t WHERE t.article_id = a.article_id ORDER BY t.position)) AS tags,
       (SELECT json_group_array(json_object('url', url, 'caption', caption))
          FROM (SELECT i.url, i.caption FROM images AS i
                WHERE i.article_id = a.article_id ORDER BY i.position)) AS images,
       (SELECT json_group_array(json_object('language', language, 'url', url, 'title', title))
          FROM (SELECT r.language, r.url, r.title FROM translations AS r
                WHERE r.article_id = a.article_id ORDER BY r.language)) AS translations,
       a.story_id, a.crawled_at, a.content_hash,
       a.revision, a.first_seen_at, a.last_crawled_at
FROM articles AS a;

PRAGMA user_version = 7;
