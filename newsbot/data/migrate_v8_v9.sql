-- newsbot store: schema version 8 -> 9.
-- New databases are made by running every earlier script and then this file, so this is also
-- the definition of everything v9 changed (docs/schema.md shows the result). Never edit it once
-- released: add migrate_v9_v10.sql instead.
--
-- v9, Datasette on a million articles (issue 32): every page, facet and canned query of `scrapy browse`
-- answers within Datasette's time limits. A facet counts a column's values over the whole table, so
-- each faceted column has an index to count them in: a scan of the articles themselves reads every
-- body. The stories and story_editions views grouped every article at each read; they now read
-- story_rows, one row per story kept by triggers in the transaction that writes the articles.

-- The articles' facets are language and category_slug: each index holds the other, so a facet counted
-- within a click on the first reads the index alone, and published_at, the order a click shows.
CREATE INDEX articles_language ON articles (language, published_at, category_slug);
DROP INDEX articles_category;
CREATE INDEX articles_category ON articles (category_slug, published_at, language);
-- article_view's published_date. With published_at, the index alone answers the facet (SQLite reads no
-- expression from an index unless the index holds the columns it is made of), and a day's articles newest first.
CREATE INDEX articles_published_date ON articles (substr(published_at, 1, 10), published_at);
CREATE INDEX articles_edited ON articles (crawled_at) WHERE revision > 1;  -- the edited_articles query
CREATE INDEX tags_tag ON tags (tag);
CREATE INDEX translations_language ON translations (language);

-- What the views computed, per story: first_published_at is NULL when no edition is dated, a title_* or
-- url_* when that edition is not stored.
CREATE TABLE story_rows (
    story_id           TEXT    NOT NULL PRIMARY KEY,
    first_published_at TEXT,
    last_published_at  TEXT,
    languages          TEXT    NOT NULL,
    editions           INTEGER NOT NULL,
    first_seen_at      TEXT    NOT NULL,
    category_slug      TEXT    NOT NULL,
    title_az           TEXT,
    title_en           TEXT,
    title_ru           TEXT,
    url_az             TEXT,
    url_en             TEXT,
    url_ru             TEXT
) WITHOUT ROWID;

-- A story's row computed again from its articles (none left: no row). Inserting a story id into this
-- view runs the trigger below, the articles' triggers' shared procedure (as summary_change in v8).
CREATE VIEW story_refresh AS SELECT story_id FROM articles WHERE 0;

CREATE TRIGGER story_refresh_apply INSTEAD OF INSERT ON story_refresh BEGIN
    DELETE FROM story_rows WHERE story_id = new.story_id;
    INSERT INTO story_rows (story_id, first_published_at, last_published_at, languages, editions, first_seen_at,
                            category_slug, title_az, title_en, title_ru, url_az, url_en, url_ru)
    SELECT story_id, min(nullif(published_at, '')), max(nullif(published_at, '')),
           (SELECT group_concat(language)
              FROM (SELECT DISTINCT e.language FROM articles AS e
                    WHERE e.story_id = new.story_id ORDER BY e.language)),
           count(*), min(first_seen_at), max(category_slug),
           max(CASE language WHEN 'az' THEN title END), max(CASE language WHEN 'en' THEN title END),
           max(CASE language WHEN 'ru' THEN title END), max(CASE language WHEN 'az' THEN url END),
           max(CASE language WHEN 'en' THEN url END), max(CASE language WHEN 'ru' THEN url END)
    FROM articles WHERE story_id = new.story_id
    GROUP BY story_id;
END;

CREATE TRIGGER story_rows_insert AFTER INSERT ON articles BEGIN
    INSERT INTO story_refresh (story_id) VALUES (new.story_id);
END;
CREATE TRIGGER story_rows_delete AFTER DELETE ON articles BEGIN
    INSERT INTO story_refresh (story_id) VALUES (old.story_id);
END;
-- An upsert names every column: only a change to what story_rows holds refreshes (a merge moves an
-- article out of its story, so both stories).
CREATE TRIGGER story_rows_update AFTER UPDATE OF story_id, language, title, url, published_at, first_seen_at,
                                                 category_slug ON articles
WHEN old.story_id IS NOT new.story_id OR old.language IS NOT new.language OR old.title IS NOT new.title
     OR old.url IS NOT new.url OR old.published_at IS NOT new.published_at
     OR old.first_seen_at IS NOT new.first_seen_at OR old.category_slug IS NOT new.category_slug BEGIN
    INSERT INTO story_refresh (story_id) VALUES (new.story_id);
    INSERT INTO story_refresh (story_id) SELECT old.story_id WHERE old.story_id IS NOT new.story_id;
END;

INSERT INTO story_rows (story_id, first_published_at, last_published_at, languages, editions, first_seen_at,
                        category_slug, title_az, title_en, title_ru, url_az, url_en, url_ru)
SELECT a.story_id, min(nullif(a.published_at, '')), max(nullif(a.published_at, '')),
       (SELECT group_concat(language)
          FROM (SELECT DISTINCT e.language FROM articles AS e WHERE e.story_id = a.story_id ORDER BY e.language)),
       count(*), min(a.first_seen_at), max(a.category_slug),
       max(CASE a.language WHEN 'az' THEN a.title END), max(CASE a.language WHEN 'en' THEN a.title END),
       max(CASE a.language WHEN 'ru' THEN a.title END), max(CASE a.language WHEN 'az' THEN a.url END),
       max(CASE a.language WHEN 'en' THEN a.url END), max(CASE a.language WHEN 'ru' THEN a.url END)
FROM articles AS a
GROUP BY a.story_id;

-- The facets of the views (editions and languages, each index holding the other for a facet within a
-- click on one; category_slug), and the canned queries' order and day.
CREATE INDEX story_rows_published ON story_rows (first_published_at);
CREATE INDEX story_rows_category ON story_rows (category_slug, first_published_at);
CREATE INDEX story_rows_editions ON story_rows (editions, languages);
CREATE INDEX story_rows_languages ON story_rows (languages, editions);
-- The stories_in_all_editions query, newest first, without reading the stories that lack an edition.
CREATE INDEX story_rows_complete ON story_rows (first_published_at)
WHERE title_az IS NOT NULL AND title_en IS NOT NULL AND title_ru IS NOT NULL;

DROP VIEW stories;
DROP VIEW story_editions;
CREATE VIEW stories AS
SELECT story_id, first_published_at, last_published_at, languages, editions, first_seen_at
FROM story_rows;
CREATE VIEW story_editions AS
SELECT story_id, first_published_at, category_slug, title_az, title_en, title_ru, url_az, url_en, url_ru
FROM story_rows;

PRAGMA user_version = 9;
