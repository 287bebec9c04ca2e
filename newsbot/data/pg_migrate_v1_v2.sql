-- Version 2: full-text search over title and body, folded as SQLite's FTS5 index folds
-- (unicode61 remove_diacritics: lower case, no diacritics) and further: ə and ı, which neither
-- unaccent nor FTS5 treats as accented letters, as e and i. So "şirkəti" finds "ŞİRKƏTİ" and "sirketi". IMMUTABLE through unaccent's
-- two-argument form, so an index can be built on it; 'simple': no stemming, as in SQLite.
CREATE EXTENSION IF NOT EXISTS unaccent;

-- Through the schema unaccent is installed in (the current one, or wherever it was before). lower()
-- under ICU's root collation: under the columns' "C" (or a database created with C) it lowers ASCII only.
DO $do$
DECLARE
    home text := (SELECT quote_ident(extnamespace::regnamespace::text) FROM pg_extension WHERE extname = 'unaccent');
BEGIN
    EXECUTE format('CREATE FUNCTION newsbot_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT '
                   'AS %L', format('SELECT translate(lower(%s.unaccent(%L::regdictionary, t) COLLATE "und-x-icu"), %L, %L)',
                                   home, home || '.unaccent', 'əı', 'ei'));
END
$do$;

CREATE FUNCTION newsbot_document(title text, body text) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT setweight(to_tsvector('simple', newsbot_fold(title)), 'A')
             || to_tsvector('simple', newsbot_fold(body)) $$;

CREATE INDEX articles_search ON articles USING gin (newsbot_document(title, body));
