"""Housekeeping: audit retention and repairing a stale search index."""

from datetime import UTC, datetime, timedelta

from bot.domain.upkeep import upkeep
from bot.inventory.store import Inventory
from bot.model import AuditEntry, Node, Secret

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_upkeep_purges_old_audit_and_rebuilds_a_stale_index(tmp_path):
    with Inventory(tmp_path / "b.db") as inventory:
        inventory.upsert_nodes([Node("bras-norte", "127.0.0.1")])
        inventory.record_audit(AuditEntry(NOW - timedelta(days=181), "viejo", "ok"))
        inventory.record_audit(AuditEntry(NOW - timedelta(days=1), "nuevo", "ok"))
        # A sync killed before its last step: rows in, index stale.
        inventory.replace_node(
            "bras-norte", [Secret("juan.perez", "bras-norte", comment="Pérez")], [], NOW
        )
        assert inventory.search_index_dirty
        assert inventory.by_fragments(["perez"]) == []
        upkeep(inventory, audit_days=180, now=NOW)
        assert [e.query for e in inventory.audit()] == ["nuevo"]
        assert not inventory.search_index_dirty
        assert [h.name for h in inventory.by_fragments(["perez"])] == ["juan.perez"]
