-- newsbot store: schema version 7 -> 8.
-- New databases are made by running every earlier script and then this file, so this is also
-- the definition of everything v8 changed (docs/schema.md shows the result). Never edit it once
-- released: add migrate_v8_v9.sql instead.
--
-- v8, summaries: what `scrapy stats` and `scrapy report` show, kept in small tables by triggers in
-- the transaction that writes the articles (a crawl, a merge, a re-key, a migration alike), so
-- they answer in the same time on a million articles as on a thousand and never disagree with a
-- scan. newsbot.store.summaries fills them once from the articles a store already holds (the
-- migration's Python step) and reads them. pg_migrate_v2_v3.sql is the same for PostgreSQL.

-- Articles per Baku publication day ('' when undated), edition and category key.
CREATE TABLE summary_articles (
    day           TEXT    NOT NULL,
    language      TEXT    NOT NULL,
    category_slug TEXT    NOT NULL,
    articles      INTEGER NOT NULL,
    PRIMARY KEY (day, language, category_slug)
) WITHOUT ROWID;

-- One row: all articles, those stored under more than one URL (a slug edited), and per item field
-- the articles where it is filled (as newsbot.store.summaries.FILLED says).
CREATE TABLE summary_totals (
    articles         INTEGER NOT NULL DEFAULT 0,
    renamed_articles INTEGER NOT NULL DEFAULT 0,
    url              INTEGER NOT NULL DEFAULT 0,
    article_id       INTEGER NOT NULL DEFAULT 0,
    site_id          INTEGER NOT NULL DEFAULT 0,
    source           INTEGER NOT NULL DEFAULT 0,
    language         INTEGER NOT NULL DEFAULT 0,
    title            INTEGER NOT NULL DEFAULT 0,
    lead             INTEGER NOT NULL DEFAULT 0,
    body             INTEGER NOT NULL DEFAULT 0,
    word_count       INTEGER NOT NULL DEFAULT 0,
    published_at     INTEGER NOT NULL DEFAULT 0,
    published_at_utc INTEGER NOT NULL DEFAULT 0,
    category         INTEGER NOT NULL DEFAULT 0,
    category_slug    INTEGER NOT NULL DEFAULT 0,
    tags             INTEGER NOT NULL DEFAULT 0,
    images           INTEGER NOT NULL DEFAULT 0,
    translations     INTEGER NOT NULL DEFAULT 0,
    story_id         INTEGER NOT NULL DEFAULT 0,
    crawled_at       INTEGER NOT NULL DEFAULT 0,
    content_hash     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO summary_totals DEFAULT VALUES;

-- Stories by how many editions (languages) the store holds of each.
CREATE TABLE summary_editions (
    editions INTEGER NOT NULL PRIMARY KEY,
    stories  INTEGER NOT NULL
);

-- Dated articles per edition by seconds from publication to the crawl that first stored them,
-- kept to three significant figures (newsbot.store.summaries.freshness_bucket): a histogram of a
-- few thousand rows at most, whatever the store's size.
CREATE TABLE summary_freshness (
    language TEXT    NOT NULL,
    seconds  INTEGER NOT NULL,
    articles INTEGER NOT NULL,
    PRIMARY KEY (language, seconds)
) WITHOUT ROWID;

-- The editions trigger below counts a story's languages: from the index alone, not the article rows.
DROP INDEX articles_story;
CREATE INDEX articles_story ON articles (story_id, language, id);

-- A change to the summaries: one article row counted in (sign 1) or out (-1). Inserting into this
-- view runs the trigger below, SQLite's stand-in for a procedure, so the articles' triggers share it.
CREATE VIEW summary_change AS SELECT 0 AS sign, * FROM articles WHERE 0;

CREATE TRIGGER summary_change_apply INSTEAD OF INSERT ON summary_change BEGIN
    INSERT INTO summary_articles (day, language, category_slug, articles)
    VALUES (substr(new.published_at, 1, 10), new.language, new.category_slug, new.sign)
    ON CONFLICT DO UPDATE SET articles = articles + excluded.articles;

    UPDATE summary_totals SET
        articles = articles + new.sign,
        url = url + new.sign * (new.url != ''),
        article_id = article_id + new.sign * (new.article_id != ''),
        site_id = site_id + new.sign * (new.site_id IS NOT NULL),
        source = source + new.sign * (new.source != ''),
        language = language + new.sign * (new.language != ''),
        title = title + new.sign * (new.title != ''),
        lead = lead + new.sign * (new.lead != ''),
        body = body + new.sign * (new.body != ''),
        word_count = word_count + new.sign * (new.word_count > 0),
        published_at = published_at + new.sign * (new.published_at != ''),
        published_at_utc = published_at_utc + new.sign * (new.published_at_utc != ''),
        category = category + new.sign * (new.category != ''),
        category_slug = category_slug + new.sign * (new.category_slug != ''),
        story_id = story_id + new.sign * (new.story_id != ''),
        crawled_at = crawled_at + new.sign * (new.crawled_at != ''),
        content_hash = content_hash + new.sign * (new.content_hash != '');

    INSERT INTO summary_freshness (language, seconds, articles)
    SELECT new.language,
           CASE WHEN abs(exact) < 1000 THEN exact
                WHEN abs(exact) < 10000 THEN exact / 10 * 10
                WHEN abs(exact) < 100000 THEN exact / 100 * 100
                WHEN abs(exact) < 1000000 THEN exact / 1000 * 1000
                WHEN abs(exact) < 10000000 THEN exact / 10000 * 10000
                ELSE exact / 100000 * 100000 END,
           new.sign
    FROM (SELECT CAST(strftime('%s', substr(new.first_seen_at, 1, 19)) AS INTEGER)
                 - CAST(strftime('%s', substr(new.published_at_utc, 1, 19)) AS INTEGER) AS exact)
    WHERE new.published_at_utc GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z'
      AND new.first_seen_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z'
      AND exact IS NOT NULL
    ON CONFLICT DO UPDATE SET articles = articles + excluded.articles;

    -- The article's language counts for its story unless another article of the story has it: then the
    -- story moves between the number of editions the others give it and one more. The others are told
    -- apart by id, which an update keeps (article_id changes when an article is re-keyed).
    INSERT INTO summary_editions (editions, stories)
    SELECT others + step.up, step.change
    FROM (SELECT count(DISTINCT language) AS others FROM articles
          WHERE story_id = new.story_id AND id != new.id),
         (SELECT 1 AS up, new.sign AS change UNION ALL SELECT 0, -new.sign) AS step
    WHERE others + step.up > 0
      AND NOT EXISTS (SELECT 1 FROM articles WHERE story_id = new.story_id AND language = new.language
                      AND id != new.id)
    ON CONFLICT DO UPDATE SET stories = stories + excluded.stories;
END;

-- Counted rows stay at 0 rather than being deleted (a lookup per change): readers skip them.

CREATE TRIGGER summary_articles_insert AFTER INSERT ON articles BEGIN
    INSERT INTO summary_change VALUES (1, new.article_id, new.url, new.site_id, new.source, new.language,
        new.title, new.lead, new.body, new.word_count, new.published_at, new.published_at_utc, new.category,
        new.category_slug, new.story_id, new.crawled_at, new.content_hash, new.first_seen_at,
        new.last_crawled_at, new.revision, new.id);
END;

CREATE TRIGGER summary_articles_delete AFTER DELETE ON articles BEGIN
    INSERT INTO summary_change VALUES (-1, old.article_id, old.url, old.site_id, old.source, old.language,
        old.title, old.lead, old.body, old.word_count, old.published_at, old.published_at_utc, old.category,
        old.category_slug, old.story_id, old.crawled_at, old.content_hash, old.first_seen_at,
        old.last_crawled_at, old.revision, old.id);
END;

CREATE TRIGGER summary_articles_update AFTER UPDATE ON articles BEGIN
    INSERT INTO summary_change VALUES (-1, old.article_id, old.url, old.site_id, old.source, old.language,
        old.title, old.lead, old.body, old.word_count, old.published_at, old.published_at_utc, old.category,
        old.category_slug, old.story_id, old.crawled_at, old.content_hash, old.first_seen_at,
        old.last_crawled_at, old.revision, old.id);
    INSERT INTO summary_change VALUES (1, new.article_id, new.url, new.site_id, new.source, new.language,
        new.title, new.lead, new.body, new.word_count, new.published_at, new.published_at_utc, new.category,
        new.category_slug, new.story_id, new.crawled_at, new.content_hash, new.first_seen_at,
        new.last_crawled_at, new.revision, new.id);
END;

-- An article stored under a second URL (its slug edited), or no longer.
CREATE TRIGGER summary_urls_insert AFTER INSERT ON article_urls BEGIN
    UPDATE summary_totals SET renamed_articles = renamed_articles + 1
    WHERE (SELECT count(*) FROM article_urls WHERE article_id = new.article_id) = 2;
END;

CREATE TRIGGER summary_urls_delete AFTER DELETE ON article_urls BEGIN
    UPDATE summary_totals SET renamed_articles = renamed_articles - 1
    WHERE (SELECT count(*) FROM article_urls WHERE article_id = old.article_id) = 1;
END;

CREATE TRIGGER summary_urls_update AFTER UPDATE OF article_id ON article_urls
WHEN old.article_id != new.article_id BEGIN
    UPDATE summary_totals SET renamed_articles = renamed_articles
        - ((SELECT count(*) FROM article_urls WHERE article_id = old.article_id) = 1)
        + ((SELECT count(*) FROM article_urls WHERE article_id = new.article_id) = 2);
END;

CREATE TRIGGER summary_tags_insert AFTER INSERT ON tags BEGIN
    UPDATE summary_totals SET tags = tags + 1
    WHERE (SELECT count(*) FROM tags WHERE article_id = new.article_id) = 1;
END;

CREATE TRIGGER summary_tags_delete AFTER DELETE ON tags BEGIN
    UPDATE summary_totals SET tags = tags - 1
    WHERE NOT EXISTS (SELECT 1 FROM tags WHERE article_id = old.article_id);
END;

CREATE TRIGGER summary_images_insert AFTER INSERT ON images BEGIN
    UPDATE summary_totals SET images = images + 1
    WHERE (SELECT count(*) FROM images WHERE article_id = new.article_id) = 1;
END;

CREATE TRIGGER summary_images_delete AFTER DELETE ON images BEGIN
    UPDATE summary_totals SET images = images - 1
    WHERE NOT EXISTS (SELECT 1 FROM images WHERE article_id = old.article_id);
END;

CREATE TRIGGER summary_translations_insert AFTER INSERT ON translations BEGIN
    UPDATE summary_totals SET translations = translations + 1
    WHERE (SELECT count(*) FROM translations WHERE article_id = new.article_id) = 1;
END;

CREATE TRIGGER summary_translations_delete AFTER DELETE ON translations BEGIN
    UPDATE summary_totals SET translations = translations - 1
    WHERE NOT EXISTS (SELECT 1 FROM translations WHERE article_id = old.article_id);
END;

PRAGMA user_version = 8;
