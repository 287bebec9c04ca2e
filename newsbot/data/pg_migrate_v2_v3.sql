-- newsbot store on PostgreSQL: schema version 2 -> 3 (SQLite's migrate_v7_v8.sql: its comments say why).
-- The same summary tables, kept by statement-level triggers: each write statement (a COPY of a batch, an
-- upsert, a re-key, a cascade) changes them once, from its transition tables, set against set. A row-level
-- trigger would see the whole statement's rows already written (PostgreSQL fires them at the statement's
-- end), which breaks counts that depend on the other rows of a story or an article.

CREATE TABLE summary_articles (
    day           TEXT COLLATE "C" NOT NULL,
    language      TEXT COLLATE "C" NOT NULL,
    category_slug TEXT COLLATE "C" NOT NULL,
    articles      BIGINT NOT NULL,
    PRIMARY KEY (day, language, category_slug)
);

CREATE TABLE summary_totals (
    articles         BIGINT NOT NULL DEFAULT 0,
    renamed_articles BIGINT NOT NULL DEFAULT 0,
    url              BIGINT NOT NULL DEFAULT 0,
    article_id       BIGINT NOT NULL DEFAULT 0,
    site_id          BIGINT NOT NULL DEFAULT 0,
    source           BIGINT NOT NULL DEFAULT 0,
    language         BIGINT NOT NULL DEFAULT 0,
    title            BIGINT NOT NULL DEFAULT 0,
    lead             BIGINT NOT NULL DEFAULT 0,
    body             BIGINT NOT NULL DEFAULT 0,
    word_count       BIGINT NOT NULL DEFAULT 0,
    published_at     BIGINT NOT NULL DEFAULT 0,
    published_at_utc BIGINT NOT NULL DEFAULT 0,
    category         BIGINT NOT NULL DEFAULT 0,
    category_slug    BIGINT NOT NULL DEFAULT 0,
    tags             BIGINT NOT NULL DEFAULT 0,
    images           BIGINT NOT NULL DEFAULT 0,
    translations     BIGINT NOT NULL DEFAULT 0,
    story_id         BIGINT NOT NULL DEFAULT 0,
    crawled_at       BIGINT NOT NULL DEFAULT 0,
    content_hash     BIGINT NOT NULL DEFAULT 0
);
INSERT INTO summary_totals DEFAULT VALUES;

CREATE TABLE summary_editions (
    editions INTEGER NOT NULL PRIMARY KEY,
    stories  BIGINT  NOT NULL
);

-- Per story, its articles in each language: what the editions above are counted from (a count that
-- falls to 0 keeps its row), filled here from the articles a store already holds.
CREATE TABLE summary_story_languages (
    story_id TEXT COLLATE "C" NOT NULL,
    language TEXT COLLATE "C" NOT NULL,
    articles BIGINT NOT NULL,
    PRIMARY KEY (story_id, language)
);
INSERT INTO summary_story_languages (story_id, language, articles)
SELECT story_id, language, count(*) FROM articles GROUP BY story_id, language;

CREATE TABLE summary_freshness (
    language TEXT COLLATE "C" NOT NULL,
    seconds  BIGINT NOT NULL,
    articles BIGINT NOT NULL,
    PRIMARY KEY (language, seconds)
);

-- Seconds from publication to first stored, to three significant figures, as newsbot.store.summaries.latency
-- defines them; NULL when either is not a UTC timestamp (a cast would fail the write).
CREATE FUNCTION newsbot_freshness(published_at_utc text, first_seen_at text) RETURNS bigint
IMMUTABLE LANGUAGE sql AS $$
    SELECT CASE WHEN abs(exact) < 1000 THEN exact
                WHEN abs(exact) < 10000 THEN exact / 10 * 10
                WHEN abs(exact) < 100000 THEN exact / 100 * 100
                WHEN abs(exact) < 1000000 THEN exact / 1000 * 1000
                WHEN abs(exact) < 10000000 THEN exact / 10000 * 10000
                ELSE exact / 100000 * 100000 END
    FROM (SELECT CASE WHEN published_at_utc ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}.*Z$'
                       AND first_seen_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}.*Z$'
                      THEN (extract(epoch FROM substr(first_seen_at, 1, 19)::timestamp)
                            - extract(epoch FROM substr(published_at_utc, 1, 19)::timestamp))::bigint END AS exact) AS e
$$;

CREATE FUNCTION newsbot_summarise_articles() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    -- The rows this statement wrote (INSERT, UPDATE) and the rows it replaced or deleted (UPDATE, DELETE).
    added   text := CASE WHEN TG_OP <> 'DELETE' THEN 'new_rows' ELSE '(SELECT * FROM articles WHERE false)' END;
    removed text := CASE WHEN TG_OP <> 'INSERT' THEN 'old_rows' ELSE '(SELECT * FROM articles WHERE false)' END;
    changes text := format('(SELECT 1 AS sign, * FROM %s AS n UNION ALL SELECT -1, * FROM %s AS o)', added, removed);
BEGIN
    EXECUTE format($q$
        INSERT INTO summary_articles AS s (day, language, category_slug, articles)
        SELECT substr(published_at, 1, 10), language, category_slug, sum(sign) FROM %s AS c
        GROUP BY 1, 2, 3 HAVING sum(sign) <> 0
        ON CONFLICT (day, language, category_slug) DO UPDATE SET articles = s.articles + excluded.articles
    $q$, changes);
    EXECUTE format($q$
        UPDATE summary_totals AS t SET
                articles = t.articles + c.articles,
                url = t.url + c.url,
                article_id = t.article_id + c.article_id,
                site_id = t.site_id + c.site_id,
                source = t.source + c.source,
                language = t.language + c.language,
                title = t.title + c.title,
                lead = t.lead + c.lead,
                body = t.body + c.body,
                word_count = t.word_count + c.word_count,
                published_at = t.published_at + c.published_at,
                published_at_utc = t.published_at_utc + c.published_at_utc,
                category = t.category + c.category,
                category_slug = t.category_slug + c.category_slug,
                story_id = t.story_id + c.story_id,
                crawled_at = t.crawled_at + c.crawled_at,
                content_hash = t.content_hash + c.content_hash
        FROM (SELECT sum(sign) AS articles,
                       sum(sign * (url <> '')::int) AS url,
                       sum(sign * (article_id <> '')::int) AS article_id,
                       sum(sign * (site_id IS NOT NULL)::int) AS site_id,
                       sum(sign * (source <> '')::int) AS source,
                       sum(sign * (language <> '')::int) AS language,
                       sum(sign * (title <> '')::int) AS title,
                       sum(sign * (lead <> '')::int) AS lead,
                       sum(sign * (body <> '')::int) AS body,
                       sum(sign * (word_count > 0)::int) AS word_count,
                       sum(sign * (published_at <> '')::int) AS published_at,
                       sum(sign * (published_at_utc <> '')::int) AS published_at_utc,
                       sum(sign * (category <> '')::int) AS category,
                       sum(sign * (category_slug <> '')::int) AS category_slug,
                       sum(sign * (story_id <> '')::int) AS story_id,
                       sum(sign * (crawled_at <> '')::int) AS crawled_at,
                       sum(sign * (content_hash <> '')::int) AS content_hash
              FROM %s AS changed) AS c
        WHERE c.articles IS NOT NULL
    $q$, changes);
    EXECUTE format($q$
        INSERT INTO summary_freshness AS s (language, seconds, articles)
        SELECT language, seconds, sum(sign) FROM (
            SELECT sign, language, newsbot_freshness(published_at_utc, first_seen_at) AS seconds FROM %s AS c
            WHERE published_at_utc <> '' AND first_seen_at <> '') AS f
        WHERE seconds IS NOT NULL GROUP BY 1, 2 HAVING sum(sign) <> 0
        ON CONFLICT (language, seconds) DO UPDATE SET articles = s.articles + excluded.articles
    $q$, changes);
    -- A story's editions move with its languages' counts: each trigger adds what its own rows change to
    -- where the last one left them (an upsert fires the INSERT and the UPDATE triggers, each after both
    -- kinds of rows are written, so the articles table cannot tell what either one found).
    EXECUTE format($q$
        WITH delta AS (SELECT story_id, language, sum(sign) AS n FROM %s AS c
                       GROUP BY story_id, language HAVING sum(sign) <> 0),
        stories AS (SELECT DISTINCT story_id FROM delta),
        was AS (SELECT s.story_id, s.language, s.articles FROM summary_story_languages AS s
                JOIN stories USING (story_id) WHERE s.articles > 0),
        before AS (SELECT stories.story_id, count(was.language) AS editions
                   FROM stories LEFT JOIN was USING (story_id) GROUP BY stories.story_id),
        moved AS (SELECT d.story_id, sum((coalesce(was.articles, 0) + d.n > 0)::int
                                         - (coalesce(was.articles, 0) > 0)::int) AS change
                  FROM delta AS d LEFT JOIN was USING (story_id, language) GROUP BY d.story_id),
        counted AS (INSERT INTO summary_story_languages AS s (story_id, language, articles)
                    SELECT story_id, language, n FROM delta
                    ON CONFLICT (story_id, language) DO UPDATE SET articles = s.articles + excluded.articles),
        moves AS (SELECT before.editions + moved.change AS editions, 1 AS change
                  FROM before JOIN moved USING (story_id) WHERE moved.change <> 0 AND before.editions + moved.change > 0
                  UNION ALL SELECT before.editions, -1
                  FROM before JOIN moved USING (story_id) WHERE moved.change <> 0 AND before.editions > 0)
        INSERT INTO summary_editions AS e (editions, stories)
        SELECT editions, sum(change) FROM moves GROUP BY editions
        ON CONFLICT (editions) DO UPDATE SET stories = e.stories + excluded.stories
    $q$, changes);
    RETURN NULL;
END
$body$;

-- tags, images, translations: articles with at least one row (TG_ARGV: the summary_totals column and
-- the count it must exceed); article_urls: articles with more than one URL.
CREATE FUNCTION newsbot_summarise_rows() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    nothing text := format('(SELECT * FROM %I WHERE false)', TG_TABLE_NAME);
    added   text := CASE WHEN TG_OP <> 'DELETE' THEN 'new_rows' ELSE nothing END;
    removed text := CASE WHEN TG_OP <> 'INSERT' THEN 'old_rows' ELSE nothing END;
BEGIN
    EXECUTE format($q$
        UPDATE summary_totals AS t SET %1$I = t.%1$I + coalesce((
            SELECT sum((now > %2$s)::int - (now - delta > %2$s)::int) FROM (
                SELECT d.delta, (SELECT count(*) FROM %3$I AS r WHERE r.article_id = d.article_id) AS now
                FROM (SELECT article_id, sum(sign) AS delta FROM (
                          SELECT 1 AS sign, article_id FROM %4$s AS n
                          UNION ALL SELECT -1, article_id FROM %5$s AS o) AS c
                      GROUP BY article_id HAVING sum(sign) <> 0) AS d) AS x), 0)
    $q$, TG_ARGV[0], TG_ARGV[1], TG_TABLE_NAME, added, removed);
    RETURN NULL;
END
$body$;

CREATE TRIGGER summary_articles_insert AFTER INSERT ON articles REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_articles();
CREATE TRIGGER summary_articles_update AFTER UPDATE ON articles REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_articles();
CREATE TRIGGER summary_articles_delete AFTER DELETE ON articles REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_articles();

CREATE TRIGGER summary_tags_insert AFTER INSERT ON tags REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_rows('tags', '0');
CREATE TRIGGER summary_tags_update AFTER UPDATE ON tags REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_rows('tags', '0');
CREATE TRIGGER summary_tags_delete AFTER DELETE ON tags REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_rows('tags', '0');

CREATE TRIGGER summary_images_insert AFTER INSERT ON images REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_rows('images', '0');
CREATE TRIGGER summary_images_update AFTER UPDATE ON images REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_rows('images', '0');
CREATE TRIGGER summary_images_delete AFTER DELETE ON images REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_rows('images', '0');

CREATE TRIGGER summary_translations_insert AFTER INSERT ON translations REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_rows('translations', '0');
CREATE TRIGGER summary_translations_update AFTER UPDATE ON translations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_rows('translations', '0');
CREATE TRIGGER summary_translations_delete AFTER DELETE ON translations REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_rows('translations', '0');

CREATE TRIGGER summary_article_urls_insert AFTER INSERT ON article_urls REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_rows('renamed_articles', '1');
CREATE TRIGGER summary_article_urls_update AFTER UPDATE ON article_urls REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_rows('renamed_articles', '1');
CREATE TRIGGER summary_article_urls_delete AFTER DELETE ON article_urls REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION newsbot_summarise_rows('renamed_articles', '1');
