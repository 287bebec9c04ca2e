-- newsbot store, schema version 1 (frozen: the first release).
-- Kept verbatim so the v1 -> v2 migration can be tested on a real v1 file.
-- New databases are created from schema_v2.sql; never edit this file.

CREATE TABLE articles (
    id               INTEGER PRIMARY KEY,
    article_id       TEXT    NOT NULL UNIQUE,
    url              TEXT    NOT NULL UNIQUE,
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
    images           TEXT    NOT NULL DEFAULT '[]',  -- JSON list of {"url", "caption"}
    crawled_at       TEXT    NOT NULL,
    content_hash     TEXT    NOT NULL,
    first_seen_at    TEXT    NOT NULL,
    last_crawled_at  TEXT    NOT NULL
);
CREATE INDEX articles_story ON articles (story_id);
CREATE INDEX articles_published ON articles (published_at);

CREATE TABLE tags (
    article_id TEXT    NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    tag        TEXT    NOT NULL,
    PRIMARY KEY (article_id, position)
) WITHOUT ROWID;

CREATE TABLE translations (
    article_id TEXT NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE,
    language   TEXT NOT NULL,
    url        TEXT NOT NULL,
    title      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (article_id, language)
) WITHOUT ROWID;

CREATE TABLE crawl_runs (
    run_id        INTEGER PRIMARY KEY,
    spider        TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    finish_reason TEXT,
    items_scraped INTEGER
);

PRAGMA user_version = 1;
