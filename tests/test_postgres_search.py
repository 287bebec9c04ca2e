"""Issue 31 groundwork: PostgreSQL full-text search that folds what the editions write as SQLite's
index does ("şirkəti" finds "ŞİRKƏTİ" and "sirketi"), on the real server of tests/postgres.py.
Debian's unaccent leaves ə and ı alone, so the fold translates them itself; IMMUTABLE (through
unaccent's two-argument form) so a GIN index can be built on it."""

import psycopg
import pytest

FOLD = """CREATE FUNCTION newsbot_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
          AS $$ SELECT translate(lower(public.unaccent('public.unaccent'::regdictionary, t)), 'əı', 'ei') $$"""
MATCH = ("SELECT id FROM a WHERE to_tsvector('simple', newsbot_fold(body)) "
         "@@ plainto_tsquery('simple', newsbot_fold(%s)) ORDER BY id")


@pytest.mark.parametrize("query, found", [
    ("şirkəti", [1, 2]), ("sirketi", [1, 2]), ("ŞİRKƏTİ", [1, 2]), ("елка", [3]), ("Компания", [3]),
])
def test_the_fold_finds_every_spelling_through_a_gin_index(postgres_url, query, found):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION unaccent")
        conn.execute(FOLD)
        conn.execute("CREATE TABLE a (id int, body text)")
        conn.execute("CREATE INDEX a_fts ON a USING gin (to_tsvector('simple', newsbot_fold(body)))")
        conn.execute("INSERT INTO a VALUES (1, 'ŞİRKƏTİ böyük'), (2, 'sirketi kiçik'), (3, 'Компания ёлка'), "
                     "(4, 'другое')")
        assert [row[0] for row in conn.execute(MATCH, (query,))] == found
        conn.execute("SET enable_seqscan = off")
        plan = " ".join(row[0] for row in conn.execute("EXPLAIN " + MATCH, ("x",)))
        assert "a_fts" in plan
