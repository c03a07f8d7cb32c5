"""Finding a subscriber from what the operator has: an IP, a MAC, a fragment, a typo.

The operator rarely has the exact PPPoE name. Live sessions (``ppp_sessions``)
and static addresses resolve an IP or a MAC; the folded name and comment, a
fragment or a customer's name; a trigram full-text index (``secret_search``,
keyed by ``ppp_secrets.id``, never reused) makes fragments and typos fast
among a million secrets, and difflib ranks the typo candidates it brings.

Sync writes flag the index (`mark_search_dirty`) instead of maintaining it row
by row, and the sync rebuilds it once (`rebuild_search_index`).

Functions of the `Inventory` (which delegates to them): each read goes through
its `Inventory._read`, so a typo search does not hold the reading connection
while difflib ranks.
"""

from __future__ import annotations

import difflib
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator

from bot.inventory.db import Database
from bot.inventory.keys import fold, name_key
from bot.model import Hit

MAX_SUGGESTIONS = 5
#: How many index hits per trigram feed the typo ranking.
_TRIGRAM_POSTINGS = 500
#: Trigram pairs looked up for one typo search.
_TYPO_PAIRS = 10
#: Candidates ranked by difflib for one typo search.
_TYPO_RANKED = 300


def create_vocabulary(db: sqlite3.Connection) -> None:
    """The document frequency of each trigram, on `db` (a temporary table, per
    connection): what `similar_names` picks the rarest trigrams with."""
    db.execute(
        "CREATE VIRTUAL TABLE temp.secret_search_vocab "
        "USING fts5vocab(main, 'secret_search', 'row')"
    )


def mark_search_dirty(db: sqlite3.Connection) -> None:
    """Flag the index as behind ``ppp_secrets``, inside the write that made it so."""
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('search_dirty', '1')")


def rebuild_search_index(inventory: Database) -> None:
    """Rebuild the trigram index from ``ppp_secrets`` (a couple of seconds per million).

    Per-node replaces do not maintain the index row by row (that would make
    a full sync several times slower); they flag it, and the sync rebuilds
    it once at the end. Until then searches still verify every hit against
    the table (ids are never reused), so a stale index can miss new rows but
    never returns wrong ones.
    """
    with inventory._transaction() as db:
        db.execute("DELETE FROM secret_search")
        db.execute(
            "INSERT INTO secret_search (rowid, text) "
            "SELECT id, name_folded || ' ' || comment_folded FROM ppp_secrets"
        )
        db.execute("DELETE FROM meta WHERE key = 'search_dirty'")


def search_index_dirty(inventory: Database) -> bool:
    return bool(inventory._read("SELECT 1 FROM meta WHERE key = 'search_dirty'"))


def names_by_key(inventory: Database, key: str) -> list[str]:
    """Names equal to `key` once case, accents and punctuation are ignored."""
    rows = inventory._read(
        "SELECT DISTINCT name FROM ppp_secrets WHERE name_key = ? ORDER BY name LIMIT 50",
        (key,),
    )
    return [r[0] for r in rows]


def by_address(inventory: Database, address: str) -> list[Hit]:
    """Who has this IP: a live session at last sync, or a static remote-address."""
    rows = inventory._read(
        "SELECT name FROM ppp_sessions WHERE address = ? UNION SELECT name FROM ppp_secrets "
        # The repeated `!= ''` lets SQLite use the partial index.
        "WHERE remote_address = ? AND remote_address != '' ORDER BY name LIMIT 50",
        (address, address),
    )
    return [Hit(r[0], "ip", address) for r in rows]


def by_mac(inventory: Database, address: str) -> list[Hit]:
    """Who has this MAC: a live session at last sync, or the last one seen."""
    rows = inventory._read(
        "SELECT name FROM ppp_sessions WHERE caller_id = ? UNION SELECT name FROM ppp_secrets "
        "WHERE last_caller_id = ? AND last_caller_id != '' ORDER BY name LIMIT 50",
        (address, address),
    )
    return [Hit(r[0], "mac", address) for r in rows]


def by_fragments(inventory: Database, words: list[str], limit: int) -> list[Hit]:
    """Secrets whose folded name or comment contains every word.

    Words of three characters or more go through the trigram index; every
    hit is then checked against the table itself.
    """
    folded = [fold(w) for w in words if fold(w)]
    if not folded:
        return []
    # LIKE runs on the trigram index only without ESCAPE, so the wildcards
    # themselves are cut out of the terms; the check below uses whole words.
    terms = [t for w in folded for t in re.split(r"[%_]+", w) if len(t) >= 3]
    if terms:
        where = " AND ".join("text LIKE ?" for _ in terms)
        rows = inventory._read(
            "SELECT name, name_folded, comment, comment_folded FROM ppp_secrets WHERE id IN "
            f"(SELECT rowid FROM secret_search WHERE {where} LIMIT 2000)",
            [f"%{t}%" for t in terms],
        )
    else:
        rows = inventory._read(
            "SELECT name, name_folded, comment, comment_folded FROM ppp_secrets "
            "WHERE name_key = ? LIMIT 2000",
            (name_key(" ".join(folded)),),
        )
    hits: dict[str, Hit] = {}
    for name, name_folded, comment, comment_folded in rows:
        if all(w in name_folded or w in comment_folded for w in folded):
            in_name = all(w in name_folded for w in folded)
            hits.setdefault(name, Hit(name, "name" if in_name else "comment", comment))
        if len(hits) >= limit:
            break
    return sorted(hits.values(), key=lambda h: (h.how != "name", h.name))


def similar_names(inventory: Database, text: str, limit: int) -> list[str]:
    """Configured names a typo away from `text`, best first.

    One typo breaks at most the three trigrams that overlap it, so two
    trigrams of the query at least three positions apart often both survive.
    The rarest such pairs are looked up together in the index (an
    intersection: a handful of rows even among a million secrets), and
    difflib ranks what they bring on the name key.
    """
    wanted = name_key(text)
    folded = fold(text)
    if len(wanted) < 3:
        return []
    grams = [folded[i : i + 3] for i in range(len(folded) - 2)]
    freq = dict.fromkeys(grams, 0)
    marks = ",".join("?" * len(freq))
    freq.update(
        inventory._read(
            f"SELECT term, doc FROM temp.secret_search_vocab WHERE term IN ({marks})", freq
        )
    )
    pairs = sorted(
        (freq[a] * freq[b], a, b)
        for i, a in enumerate(grams)
        for b in grams[i + 3 :]
        if freq[a] and freq[b] and a != b
    )
    chosen: list[tuple[str, str]] = []
    uses: dict[str, int] = {}
    for _, a, b in pairs:
        if uses.get(a, 0) < 2 and uses.get(b, 0) < 2 and (a, b) not in chosen:
            chosen.append((a, b))
            uses[a] = uses.get(a, 0) + 1
            uses[b] = uses.get(b, 0) + 1
        if len(chosen) == _TYPO_PAIRS:
            break
    if not chosen:  # a short query: single trigrams, rarest first
        chosen = [(g, g) for g in sorted((g for g in freq if freq[g]), key=freq.get)[:3]]
    votes: Counter[int] = Counter()
    for a, b in chosen:
        votes.update(
            r[0]
            for r in inventory._read(
                "SELECT rowid FROM secret_search WHERE secret_search MATCH ? LIMIT ?",
                (f"{_fts_term(a)} AND {_fts_term(b)}", _TRIGRAM_POSTINGS),
            )
        )
    # The name sharing the most surviving pairs is the likely one: rank few.
    rowids = [rowid for rowid, _ in votes.most_common(_TYPO_RANKED)]
    names: dict[str, str] = {}
    for chunk in _chunks(sorted(rowids), 500):
        marks = ",".join("?" * len(chunk))
        for name, key in inventory._read(
            f"SELECT name, name_key FROM ppp_secrets WHERE id IN ({marks})", chunk
        ):
            names.setdefault(name, key)
    for name in names_by_key(inventory, wanted):
        names.setdefault(name, wanted)
    matcher = difflib.SequenceMatcher(b=wanted, autojunk=False)
    ranked = []
    for name, key in names.items():
        matcher.set_seq1(key)
        if matcher.real_quick_ratio() < 0.7 or matcher.quick_ratio() < 0.7:
            continue
        ratio = matcher.ratio()
        if ratio >= 0.7:
            ranked.append((-ratio, name))
    return [name for _, name in sorted(ranked)[:limit]]


def _fts_term(gram: str) -> str:
    return '"' + gram.replace('"', '""') + '"'


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
