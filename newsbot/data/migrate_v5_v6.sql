-- newsbot store: schema version 5 -> 6.
-- New databases are made by running every earlier script and then this file. Never edit it once
-- released: add migrate_v6_v7.sql instead.
--
-- v6: the category table knows every slug of shared/site/REPORT_AZ.md, so keys an older table
-- derived from a slug (az `hadise`, ru `zdravookhranenie`) name a topic the table now keys in
-- English. What category_map learnt under the old table is forgotten; newsbot.store.identity.migrate_v6
-- then keys every article again and learns anew from its stories.

DELETE FROM category_map;

PRAGMA user_version = 6;
