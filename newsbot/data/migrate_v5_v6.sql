-- newsbot store: schema version 5 -> 6.
-- New databases are made by running every earlier script and then this file, so this is also
-- the definition of everything v6 added (docs/schema.md shows the result). Never edit it once
-- released: add migrate_v6_v7.sql instead.
--
-- v6: whether each JSON Lines file was checked once, line by line, against the store. Before v5 a
-- crawl could commit past the lines of another that was killed between writing and committing, so
-- a file written then may hold, mid-file, lines of versions that were never stored; the first
-- crawl to open the file since cuts them (newsbot.store.Store.open_journal).

ALTER TABLE journal_files ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;

PRAGMA user_version = 6;
