"""The write decision on its own: newsbot.store.decide is a pure function of what is stored and the row."""

from __future__ import annotations

from newsbot.store import Outcome, article_row, decide
from tests.test_store import make_item


def test_the_write_decision_is_a_pure_function_of_stored_state_and_row() -> None:
    row = article_row(make_item(1, crawled_at="2026-01-28T17:00:00Z"))
    assert decide(None, row) is Outcome.NEW
    assert decide((row.content_hash, "2026-01-29T00:00:00Z"), row) is Outcome.UNCHANGED  # even if older
    assert decide(("other", "2026-01-28T16:00:00Z"), row) is Outcome.UPDATED
    assert decide(("other", row.crawled_at), row) is Outcome.UPDATED  # a tie: the incoming row wins
    assert decide(("other", "2026-01-28T18:00:00Z"), row) is Outcome.STALE
    assert {o.value for o in Outcome} == {"inserted", "updated", "unchanged", "stale"}  # WriteResult's fields
