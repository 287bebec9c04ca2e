-- newsbot store: schema version 4 -> 5.
-- New databases are made by running every earlier script and then this file, so this is also
-- the definition of everything v5 added (docs/schema.md shows the result). Never edit it once
-- released: add migrate_v5_v6.sql instead.
--
-- v5: articles a transaction stored while its JSON Lines file refused their lines (a full disk),
-- per file, so the next crawl writing that file appends them from the store
-- (newsbot.pipelines.jsonlines) instead of the file missing them for good.

CREATE TABLE journal_missing (
    path       TEXT NOT NULL,
    article_id TEXT NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE ON UPDATE CASCADE,
    PRIMARY KEY (path, article_id)
) WITHOUT ROWID;
CREATE INDEX journal_missing_article ON journal_missing (article_id);

PRAGMA user_version = 5;
