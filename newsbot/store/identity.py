"""Identity in the store: which stored article a row is, which story it belongs to, which category key
its editions share (docs/schema.md, "Identity"). The decisions are pure functions (assign_stories,
learn_categories), so merging is the same whichever order or shard the links came from; the rest runs
them inside the caller's write transaction."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from newsbot.normalize import article_id, url_key, utc_now_iso
from newsbot.site import split_article_path
from newsbot.site.categories import edition_key, is_known_key, unify
from newsbot.store.connection import Connection


@dataclass
class StoryAssignment:  # what assign_stories decided for a batch of pages
    stories: list[str]                                    # the story id of each group, in order
    new_nodes: dict[str, str] = field(default_factory=dict)  # node -> story id, for nodes not stored yet
    merged: dict[str, str] = field(default_factory=dict)     # story id that lost -> the one that survived


def assign_stories(groups: Iterable[tuple[str, Iterable[str]]], known: Mapping[str, str],
                   proposals_are_ids: bool = False) -> StoryAssignment:
    """Story ids for groups of pages linked to each other (docs/schema.md, "Identity"). groups: (the id
    the pages propose, their nodes: a page's url_key and those of the editions it links); known: node ->
    stored story id. A component keeps the smallest of its stored ids (merging the others into it), else
    the smallest id its pages propose. proposals_are_ids: the proposals are a shard's story ids, which
    compete with the stored ones and become aliases when they lose."""
    groups = [(hint, list(nodes)) for hint, nodes in groups]
    # Union-find over nodes and stored story ids ("\0" keeps the two apart), iterative and sparse: a
    # node that is no group's link and not stored never enters `parent` (it is its own root).
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while (up := parent.get(root, root)) != root:
            root = up
        while x != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:  # the smaller survives, so a component's root is its smallest member
            parent[max(ra, rb)] = min(ra, rb)

    for _, nodes in groups:
        for node in nodes:
            union(nodes[0], node)
            if node in known:
                union(node, "\0" + known[node])
    stored_ids: dict[str, set[str]] = defaultdict(set)
    hints: dict[str, set[str]] = defaultdict(set)
    for hint, nodes in groups:
        if nodes:
            root = find(nodes[0])
            hints[root].add(hint)
            if proposals_are_ids and hint:
                stored_ids[root].add(hint)
            stored_ids[root].update(known[node] for node in nodes if node in known)
    chosen: dict[str, str] = {}
    result = StoryAssignment([])
    for root, proposed in hints.items():
        ids = stored_ids[root]
        chosen[root] = min(ids) if ids else min((h for h in proposed if h), default="")
        result.merged.update((other, chosen[root]) for other in ids if other != chosen[root])
    for hint, nodes in groups:
        story = chosen[find(nodes[0])] if nodes else hint
        result.stories.append(story)
        result.new_nodes.update((node, story) for node in nodes if node not in known)
    return result


def learn_categories(stories: Mapping[str, Iterable[tuple[str, str]]],
                     learned: Mapping[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """New (language, slug) -> key mappings: for each story's editions (language, category key),
    the key they should share (newsbot.site.categories.unify) for every slug the table does not know
    and nothing has taught yet. A slug taught once keeps its key (the first story wins)."""
    new: dict[tuple[str, str], str] = {}
    for editions in stories.values():
        taught = {*learned.values(), *new.values()}  # keys a store has taught count as known
        pairs = [(language, slug, learned.get((language, slug), new.get((language, slug), slug)))
                 for language, slug in editions if slug]
        if len({language for language, _, _ in pairs}) < 2:
            continue  # one edition alone teaches nothing
        key = unify([(language, mapped) for language, _, mapped in pairs], taught)
        for language, slug, mapped in pairs:
            if mapped != key and not is_known_key(mapped) and mapped not in taught:
                new.setdefault((language, slug), key)
    return new


def stored_ids(conn: Connection, rows: list[tuple[str, str, str, int | None]]) -> list[str | None]:
    """The stored article each (url_key, article_id, language, site_id) is, or None for a new one:
    by url_key, else by the id itself, else by the same edition's site_id (a slug edit)."""
    found = dict(conn.select_in("SELECT url_key, article_id FROM article_urls WHERE url_key IN ({})",
                           {key for key, *_ in rows}))
    ids = {aid for (aid,) in conn.select_in("SELECT article_id FROM articles WHERE article_id IN ({})",
                                       {aid for key, aid, *_ in rows if key not in found})}
    by_site: dict[tuple[int, str], str] = {}
    for sid, language, aid in conn.select_in(
            "SELECT site_id, language, article_id FROM articles WHERE site_id IN ({})",
            {sid for key, aid, _, sid in rows if sid is not None and key not in found and aid not in ids}):
        by_site.setdefault((sid, language), aid)
    return [found[key] if key in found else aid if aid in ids else by_site.get((sid, language))
            for key, aid, language, sid in rows]


def known_nodes(conn: Connection, nodes: Iterable[str]) -> dict[str, str]:
    return dict(conn.select_in("SELECT node, story_id FROM story_nodes WHERE node IN ({})", set(nodes)))


def apply_stories(conn: Connection, assignment: StoryAssignment, now: str) -> None:
    """Store the new nodes, and move every member, article and alias of a merged story to its survivor."""
    if assignment.new_nodes:
        conn.insert_rows("story_nodes", ("node", "story_id"), list(assignment.new_nodes.items()),
                         "ON CONFLICT (node) DO UPDATE SET story_id = excluded.story_id")
    if assignment.merged:
        pairs = [(survivor, loser) for loser, survivor in assignment.merged.items()]
        for table in ("story_nodes", "articles", "story_aliases"):
            conn.executemany(f"UPDATE {table} SET story_id = ? WHERE story_id = ?", pairs)
        conn.executemany("INSERT INTO story_aliases (alias, story_id, merged_at) VALUES (?, ?, ?) ON CONFLICT (alias) "
                         "DO UPDATE SET story_id = excluded.story_id, merged_at = excluded.merged_at",
                         [(loser, survivor, now) for survivor, loser in pairs])


def category_map(conn: Connection) -> dict[tuple[str, str], str]:
    return {(language, slug): key for language, slug, key in
            conn.execute("SELECT language, slug, key FROM category_map")}


def learn_and_apply_categories(conn: Connection, stories: Mapping[str, list[tuple[str, str]]],
                               learned: Mapping[tuple[str, str], str], now: str,
                               stored: Iterable[str] | None = None) -> dict[tuple[str, str], str]:
    """Learn keys from `stories` (story id -> editions (language, key) about to be written), together
    with the editions already stored for those stories (`stored`: only for these; None: all); store
    what was learned and apply it to every earlier row. Returns the new mappings (the caller applies
    them to its own rows)."""
    editions: dict[str, list[tuple[str, str]]] = {story: list(pairs) for story, pairs in stories.items()}
    with_history = list(editions) if stored is None else [story for story in stored if story in editions]
    for story, language, slug in conn.select_in(
            "SELECT story_id, language, category_slug FROM articles WHERE story_id IN ({})", with_history):
        editions[story].append((language, slug))
    new = learn_categories(editions, learned)
    if new:
        conn.executemany("INSERT INTO category_map (language, slug, key, learned_at) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT DO NOTHING",
                         [(language, slug, key, now) for (language, slug), key in new.items()])
        conn.executemany("UPDATE articles SET category_slug = ? WHERE language = ? AND category_slug = ?",
                         [(key, language, slug) for (language, slug), key in new.items()])
    return new


def rekey(conn: Connection, mapping: Mapping[str, str], schema: str = "main") -> None:
    """Give articles new ids (old -> new) in every table that holds one, inside the caller's transaction."""
    if not mapping:
        return
    # Children point at articles without ON UPDATE CASCADE: check the keys at COMMIT, once all moved
    # (a shard's copy on PostgreSQL has no foreign keys).
    if isinstance(conn, sqlite3.Connection):
        conn.execute("PRAGMA defer_foreign_keys = ON")
    conn.execute("CREATE TEMP TABLE rekey (old TEXT PRIMARY KEY, new TEXT NOT NULL)")
    conn.executemany("INSERT INTO rekey VALUES (?, ?)", mapping.items())
    for table in ("articles", "tags", "images", "translations", "article_revisions", "article_urls"):
        # Two steps, through ids no article has ("~" is not hex), so that an id another article
        # is about to give up is free when it is taken.
        conn.execute(f"UPDATE {schema}.{table} SET article_id = '~' || "
                     "(SELECT new FROM rekey WHERE old = article_id) "
                     "WHERE article_id IN (SELECT old FROM rekey)")
        conn.execute(f"UPDATE {schema}.{table} SET article_id = substr(article_id, 2) "
                     "WHERE article_id LIKE '~%'")
    # Not in a finally: after an error PostgreSQL refuses every statement until the rollback (which
    # takes the table away).
    conn.execute("DROP TABLE rekey")


def migrate_v4(conn: sqlite3.Connection) -> None:
    """After migrate_v3_v4.sql: re-key article ids by url_key, fill article_urls, build the story
    graph from every stored article and edition link (joining stories an earlier version split),
    and learn category keys from it."""
    now = utc_now_iso()
    by_new: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for aid, url, last, first in conn.execute(
            "SELECT article_id, url, last_crawled_at, first_seen_at FROM articles"):
        by_new[article_id(url)].append((last, aid, url, first))
    moves: dict[str, str] = {}
    aliases: list[tuple[str, str, str]] = []
    urls: list[tuple[str, str, str, str]] = []
    dropped: list[tuple[str]] = []
    for new, group in by_new.items():
        group.sort(reverse=True)  # the most recently crawled row of one article survives
        _, keep, url, first = group[0]
        if keep != new:
            moves[keep] = new
            aliases.append((keep, new, "rekeyed"))
        for _, other, _, _ in group[1:]:
            dropped.append((other,))
            aliases.append((other, new, "merged"))
        urls.append((url_key(url), new, url, min(g[3] for g in group)))
    conn.executemany("DELETE FROM articles WHERE article_id = ?", dropped)
    rekey(conn, moves)
    conn.executemany("INSERT OR REPLACE INTO article_aliases (alias, article_id, reason) VALUES (?, ?, ?)", aliases)
    conn.executemany("INSERT INTO article_urls (url_key, article_id, url, first_seen_at) VALUES (?, ?, ?, ?)", urls)
    known: dict[str, str] = {}
    for key, story in conn.execute(
            "SELECT u.url_key, a.story_id FROM article_urls AS u JOIN articles AS a USING (article_id)"):
        known.setdefault(key, story)
    known.update(conn.execute("SELECT node, story_id FROM story_nodes").fetchall())
    conn.executemany("INSERT OR IGNORE INTO story_nodes (node, story_id) VALUES (?, ?)", known.items())
    links: dict[str, list[str]] = defaultdict(list)
    for aid, url in conn.execute("SELECT article_id, url FROM translations"):
        links[aid].append(url_key(url))
    groups = [(story, [url_key(url), *links.get(aid, ())])
              for aid, url, story in conn.execute("SELECT article_id, url, story_id FROM articles")]
    assignment = assign_stories(groups, known)
    apply_stories(conn, assignment, now)
    learn_and_apply_categories(conn, _all_editions(conn), category_map(conn), now, stored=())


def migrate_v7(conn: sqlite3.Connection) -> None:
    """After migrate_v6_v7.sql (which forgets what category_map learnt): every article's category key
    again from its own slug and its linked editions' slugs under the table of this version, as the
    extraction gives it, then what the stories teach. Keys stored under the old table (an az or ru
    slug as the key of a topic whose en or az slug the table now knows) are one key per topic again."""
    links: dict[str, list[str]] = defaultdict(list)
    for aid, url in conn.execute("SELECT article_id, url FROM translations"):
        links[aid].append(url)
    updates = []
    for aid, url, key in conn.execute("SELECT article_id, url, category_slug FROM articles"):
        parts = [split_article_path(urlsplit(u).path) for u in (url, *links.get(aid, ()))]
        editions = [(p[0], edition_key(p[0], p[1])) for p in parts if p is not None]
        new = unify(editions) if editions else key
        if new != key:
            updates.append((new, aid))
    conn.executemany("UPDATE articles SET category_slug = ? WHERE article_id = ?", updates)
    learn_and_apply_categories(conn, _all_editions(conn), {}, utc_now_iso(), stored=())


def _all_editions(conn: sqlite3.Connection) -> dict[str, list[tuple[str, str]]]:
    """Every stored edition (language, category key) per story: with stored=(), all that
    learn_and_apply_categories needs to read."""
    editions: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for story, language, slug in conn.execute("SELECT story_id, language, category_slug FROM articles"):
        editions[story].append((language, slug))
    return editions
