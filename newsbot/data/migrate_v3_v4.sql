-- newsbot store: schema version 3 -> 4.
-- New databases are made by running schema_v1.sql, migrate_v1_v2.sql, migrate_v2_v3.sql and
-- then this file, so this is also the definition of everything v4 added (docs/schema.md shows
-- the result). Never edit it once released: add migrate_v4_v5.sql instead.
--
-- v4: identity. Article ids are keyed by the URL path without its trailing slash (url_key), so
-- /x/y and /x/y/ are one article; the ids of earlier versions (keyed on a slash-added path) are
-- re-keyed by newsbot.store.identity.migrate_v4 after this script, and kept as aliases. An
-- article keeps its id when its slug is edited (found again by its site_id): every URL it has
-- had is in article_urls. A story is a connected component of every edition link ever seen
-- (story_nodes); when a link joins two stories, the one with the smaller id survives and the
-- other's id becomes an alias (story_aliases). Category slugs no table knows learn their key
-- from a linked edition (category_map). journal_files: how much of each JSON Lines file the
-- committed transactions wrote (newsbot.pipelines.jsonlines), so a crawl killed mid-batch
-- leaves no line of an article it did not store.

-- Every URL spelling an article has been seen under, by url_key (the path without trailing slash).
CREATE TABLE article_urls (
    url_key       TEXT NOT NULL PRIMARY KEY,
    article_id    TEXT NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE ON UPDATE CASCADE,
    url           TEXT NOT NULL,
    first_seen_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX article_urls_article ON article_urls (article_id);

-- An id that no longer names an article of its own: reason 'rekeyed' (its id before v4) or
-- 'merged' (another row of the same article, merged into it).
CREATE TABLE article_aliases (
    alias      TEXT NOT NULL PRIMARY KEY,
    article_id TEXT NOT NULL,
    reason     TEXT NOT NULL
) WITHOUT ROWID;

-- node: the url_key of an edition page, stored or only linked to; story_id: its component.
CREATE TABLE story_nodes (
    node     TEXT NOT NULL PRIMARY KEY,
    story_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX story_nodes_story ON story_nodes (story_id);

-- A story id that was merged into another: alias -> the surviving story_id (kept current).
CREATE TABLE story_aliases (
    alias     TEXT NOT NULL PRIMARY KEY,
    story_id  TEXT NOT NULL,
    merged_at TEXT NOT NULL
) WITHOUT ROWID;

-- A category slug the packaged table does not know, and the key a linked edition taught it.
CREATE TABLE category_map (
    language   TEXT NOT NULL,
    slug       TEXT NOT NULL,
    key        TEXT NOT NULL,
    learned_at TEXT NOT NULL,
    PRIMARY KEY (language, slug)
) WITHOUT ROWID;

-- The byte length of each JSON Lines file as of the last committed transaction that wrote to it.
CREATE TABLE journal_files (
    path       TEXT    NOT NULL PRIMARY KEY,
    size       INTEGER NOT NULL,
    updated_at TEXT    NOT NULL
) WITHOUT ROWID;

PRAGMA user_version = 4;
