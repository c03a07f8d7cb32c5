"""The SQLite inventory: schema, migrations, lookups, search, node import."""

import sqlite3
from datetime import UTC, datetime

import pytest

from bot.errors import ConfigError, InventoryError
from bot.inventory.imports import read_connections_csv, read_nodes_csv
from bot.inventory.schema import MIGRATIONS, SCHEMA_VERSION
from bot.inventory.store import Inventory
from bot.model import ActiveSession, Connection, Node, Secret

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def inventory(tmp_path):
    with Inventory(tmp_path / "beholder.db") as inv:
        inv.upsert_nodes(
            [Node("bras-norte", "127.0.0.1", 8728), Node("bras-sur", "127.0.0.2", 8729, True)]
        )
        inv.replace_node(
            "bras-norte",
            [
                Secret(
                    "juan.perez",
                    "bras-norte",
                    profile="plan-50M",
                    comment="Pérez, Juan - San Martín 1234",
                ),
                Secret("ana.martinez", "bras-norte"),
                Secret("20513", "bras-norte", comment="Fernández, Lucía - Mitre 870"),
                Secret(
                    "fija",
                    "bras-norte",
                    remote_address="190.2.3.4",
                    last_caller_id="aa-bb-cc-00-00-99",
                ),
            ],
            [ActiveSession("juan.perez", "100.64.0.10", "AA:BB:CC:00:00:10", "3h")],
            NOW,
        )
        inv.replace_node("bras-sur", [Secret("ana.martinez", "bras-sur")], [], NOW)
        inv.rebuild_search_index()
        yield inv


def test_new_file_gets_current_schema(tmp_path):
    path = tmp_path / "new.db"
    Inventory(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    columns = {r[1] for r in db.execute("PRAGMA table_info(ppp_secrets)")}
    assert "password" not in columns
    assert {"name", "node", "last_logged_out", "last_caller_id", "synced_at"} <= columns


def test_migrates_a_database_written_by_the_first_version(tmp_path):
    """A v1 file (the ADR's two tables, as Beholder 0.1 wrote it) keeps its data."""
    path = tmp_path / "v1.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("INSERT INTO nodes VALUES ('bras-norte', '127.0.0.1', 8728, 0)")
    db.execute(
        "INSERT INTO ppp_secrets VALUES ('Juan.Pérez', 'bras-norte', 'plan-50M', 'pppoe', 0, "
        "'Pérez, Juan', NULL, '2026-11-01 10:00:00', 'aa:bb:cc:dd:ee:ff', 'hung-up', "
        "'2026-11-27T10:00:00+00:00')"
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Inventory(path) as inv:
        assert inv.schema_version == SCHEMA_VERSION
        [loc] = inv.locate("Juan.Pérez")
        assert loc.secret.last_caller_id == "AA:BB:CC:DD:EE:FF"
        assert loc.secret.comment == "Pérez, Juan"
        assert inv.names_by_key("juanperez") == ["Juan.Pérez"]
        assert [h.name for h in inv.by_fragments(["perez"])] == ["Juan.Pérez"]
        [status] = inv.node_status()
        assert status.synced_at == "2026-11-27T10:00:00+00:00"
    check = sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0]
    assert check == "ok"


def test_tls_flag_migrates_to_a_mode_keeping_every_row(tmp_path):
    """A v3 file's boolean ``tls`` becomes the mode (1 → ``yes``, 0 → ``no``), with
    the nodes' sync bookkeeping and secrets kept, and no certificate pinned."""
    path = tmp_path / "v3.db"
    db = sqlite3.connect(path)
    db.create_function("beholder_key", 1, str.lower)
    db.create_function("beholder_fold", 1, str.lower)
    db.create_function("beholder_mac", 1, lambda t: t)
    for script in MIGRATIONS[:3]:
        db.executescript(script)
    db.execute("INSERT INTO nodes (name, host, port, tls) VALUES ('bras-a', '10.0.0.1', 8729, 1)")
    db.execute(
        "INSERT INTO nodes (name, host, port, tls, synced_at, sync_error) "
        "VALUES ('bras-b', '10.0.0.2', 8728, 0, '2026-11-27T10:00:00+00:00', 'RouterTimeout')"
    )
    db.execute(
        "INSERT INTO ppp_secrets (name, node, synced_at, name_key, name_folded) "
        "VALUES ('juan.perez', 'bras-b', '2026-11-27T10:00:00+00:00', 'juanperez', 'juan.perez')"
    )
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    with Inventory(path) as inv:
        assert inv.schema_version == SCHEMA_VERSION
        assert inv.nodes() == [
            Node("bras-a", "10.0.0.1", 8729, "yes"),
            Node("bras-b", "10.0.0.2", 8728, "no"),
        ]
        [_, b] = inv.node_status()
        assert (b.synced_at, b.sync_error, b.secrets) == (
            "2026-11-27T10:00:00+00:00",
            "RouterTimeout",
            1,
        )
        [loc] = inv.locate("juan.perez")
        assert loc.node == Node("bras-b", "10.0.0.2", 8728)


def test_a_pin_survives_reimporting_the_node(inventory):
    """Re-importing the nodes CSV (no fingerprints in it) keeps what `nodes trust`
    pinned; the pin also makes the node ``tls=yes``."""
    pinned = inventory.pin_certificate("bras-sur", "AB:" * 31 + "AB")
    assert (pinned.tls, pinned.tls_fingerprint) == ("yes", "ab" * 32)
    inventory.upsert_nodes([Node("bras-sur", "127.0.0.9", 8729, "yes")])
    assert inventory.node("bras-sur").tls_fingerprint == "ab" * 32
    with pytest.raises(InventoryError, match="bras-oeste"):
        inventory.pin_certificate("bras-oeste", "ab" * 32)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.db"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ConfigError, match="newer"):
        Inventory(path)


def test_reopening_keeps_data(inventory):
    inventory.close()
    with Inventory(inventory.path) as again:
        assert again.locate("juan.perez")[0].secret.profile == "plan-50M"


def test_locate_joins_the_node(inventory):
    [loc] = inventory.locate("juan.perez")
    assert loc.node == Node("bras-norte", "127.0.0.1", 8728, False)


def test_locate_numeric_name(inventory):
    [loc] = inventory.locate("20513")
    assert loc.secret.name == "20513"


def test_locate_user_on_two_routers(inventory):
    assert [loc.secret.node for loc in inventory.locate("ana.martinez")] == [
        "bras-norte",
        "bras-sur",
    ]


def test_locate_secret_whose_node_is_missing(inventory):
    inventory.replace_node("bras-viejo", [Secret("solo.viejo", "bras-viejo")], [], NOW)
    [loc] = inventory.locate("solo.viejo")
    assert loc.node is None
    assert loc.secret.node == "bras-viejo"


@pytest.mark.parametrize("text", ["JUAN.PEREZ", "juanperez", "Juan_Pérez", "juan perez"])
def test_name_key_ignores_case_accents_and_punctuation(inventory, text):
    from bot.inventory.keys import name_key

    assert inventory.names_by_key(name_key(text)) == ["juan.perez"]


def test_ip_finds_live_session_and_static_address(inventory):
    assert [h.name for h in inventory.by_address("100.64.0.10")] == ["juan.perez"]
    assert [h.name for h in inventory.by_address("190.2.3.4")] == ["fija"]
    assert inventory.by_address("10.9.9.9") == []


def test_mac_finds_session_and_last_caller(inventory):
    assert [h.name for h in inventory.by_mac("AA:BB:CC:00:00:10")] == ["juan.perez"]
    assert [h.name for h in inventory.by_mac("AA:BB:CC:00:00:99")] == ["fija"]


@pytest.mark.parametrize(
    ("words", "names"),
    [
        (["perez"], ["juan.perez"]),
        (["PÉREZ", "juan"], ["juan.perez"]),
        (["san", "martin"], ["juan.perez"]),
        (["lucia"], ["20513"]),
        (["mitre", "870"], ["20513"]),
        (["martinez"], ["ana.martinez"]),
        (["nadie"], []),
    ],
)
def test_fragments_in_name_or_comment(inventory, words, names):
    assert [h.name for h in inventory.by_fragments(words)] == names


def test_fragment_hit_says_what_matched(inventory):
    [hit] = inventory.by_fragments(["lucia"])
    assert hit.how == "comment"
    assert hit.detail == "Fernández, Lucía - Mitre 870"


@pytest.mark.parametrize("typo", ["juan.peres", "jaun.perez", "juan.prez", "juanperes"])
def test_similar_names_catch_typos(inventory, typo):
    assert inventory.similar_names(typo)[0] == "juan.perez"


def test_similar_names_are_bounded(inventory):
    assert len(inventory.similar_names("a")) == 0
    assert len(inventory.similar_names("ana.martinez")) <= 5


def test_search_index_is_current_after_a_targeted_pull(inventory):
    inventory.upsert_secret(Secret("nuevo.cliente", "bras-sur", comment="Gómez, Nuevo"), NOW)
    assert [h.name for h in inventory.by_fragments(["gomez"])] == ["nuevo.cliente"]
    inventory.upsert_secret(Secret("nuevo.cliente", "bras-sur", comment="Otro, Nombre"), NOW)
    assert inventory.by_fragments(["gomez"]) == []
    assert [loc.secret.comment for loc in inventory.locate("nuevo.cliente")] == ["Otro, Nombre"]


def test_stale_index_never_returns_wrong_rows(inventory):
    inventory.replace_node(
        "bras-norte", [Secret("otro", "bras-norte", comment="Distinto")], [], NOW
    )
    assert inventory.search_index_dirty
    assert inventory.by_fragments(["perez"]) == []  # old index entry, verified against the table
    inventory.rebuild_search_index()
    assert not inventory.search_index_dirty
    assert [h.name for h in inventory.by_fragments(["distinto"])] == ["otro"]


def test_replace_node_only_touches_that_node(inventory):
    inventory.replace_node("bras-sur", [], [], NOW)
    assert inventory.count_secrets("bras-sur") == 0
    assert inventory.count_secrets("bras-norte") == 4


def test_failed_sync_marks_node_stale_and_keeps_rows(inventory):
    later = datetime(2026, 11, 28, 12, 15, tzinfo=UTC)
    inventory.mark_sync_failed("bras-sur", "RouterTimeout", later)
    status = {s.node.name: s for s in inventory.node_status()}
    assert status["bras-sur"].stale
    assert status["bras-sur"].synced_at == "2026-11-28T12:00:00+00:00"
    assert status["bras-sur"].secrets == 1
    assert not status["bras-norte"].stale


def test_remove_node_forgets_its_rows(inventory):
    assert inventory.remove_node("bras-sur") == 1
    assert [loc.secret.node for loc in inventory.locate("ana.martinez")] == ["bras-norte"]
    with pytest.raises(InventoryError, match="no node named"):
        inventory.remove_node("bras-sur")


def test_upsert_updates_by_name(inventory):
    inventory.upsert_nodes([Node("bras-norte", "127.0.0.9", 8000)])
    assert [n for n in inventory.nodes() if n.name == "bras-norte"] == [
        Node("bras-norte", "127.0.0.9", 8000)
    ]


def test_connections_replace_the_previous_export(inventory):
    inventory.replace_connections(
        [Connection("juan.perez", "C-1", "Juan Pérez", 50_000_000, 10_000_000, "activo")], NOW
    )
    inventory.replace_connections(
        [Connection("20513", "C-2", "Lucía Fernández", None, None, "suspendido")], NOW
    )
    assert inventory.connection("juan.perez") is None
    assert inventory.connection("20513").status == "suspendido"
    assert inventory.count_connections() == 1


def test_read_nodes_csv(tmp_path):
    path = tmp_path / "nodes.csv"
    path.write_text(
        "name,host,port,tls\nbras-a,127.0.0.1,8728,\nbras-b,127.0.0.2,8729,true\n"
        "bras-c,127.0.0.3,8729,insecure\nbras-d,127.0.0.4,8729,yes\n"
    )
    assert read_nodes_csv(path).rows == [
        Node("bras-a", "127.0.0.1", 8728),
        Node("bras-b", "127.0.0.2", 8729, "yes"),
        Node("bras-c", "127.0.0.3", 8729, "insecure"),
        Node("bras-d", "127.0.0.4", 8729, "yes"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("nombre,ip\nx,y\n", "header"),
        ("name,host,port\nx,,8728\n", "line 2"),
        ("name,host,port\nx,127.0.0.1,api\n", "not a number"),
        ("name,host,port\nx,127.0.0.1,70000\n", "out of range"),
        ("name,host,port,tls\nx,127.0.0.1,1,maybe\n", "line 2: tls must be no, yes or insecure"),
    ],
)
def test_read_nodes_csv_names_the_problem(tmp_path, content, message):
    path = tmp_path / "nodes.csv"
    path.write_text(content)
    with pytest.raises(InventoryError, match=message):
        read_nodes_csv(path)


def test_read_connections_csv(tmp_path):
    path = tmp_path / "conn.csv"
    path.write_text(
        "pppoe_user,customer_id,customer_name,plan_download_mbps,plan_upload_mbps,status\n"
        'juan.perez,1001,Juan Pérez,50,10,activo\n20513,1002,Lucía,"1,5",,suspendido\n',
        encoding="utf-8",
    )
    assert read_connections_csv(path).rows == [
        Connection("juan.perez", "1001", "Juan Pérez", 50_000_000, 10_000_000, "activo"),
        Connection("20513", "1002", "Lucía", 1_500_000, None, "suspendido"),
    ]


def test_read_connections_csv_rejects_bad_plan(tmp_path):
    path = tmp_path / "conn.csv"
    path.write_text(
        "pppoe_user,customer_id,customer_name,plan_download_mbps,plan_upload_mbps,status\nx,1,X,fast,1,activo\n"
    )
    with pytest.raises(InventoryError, match="line 2: plan_download_mbps 'fast'"):
        read_connections_csv(path)


def test_audit_keeps_entries_until_purged(inventory):
    from datetime import timedelta

    from bot.model import AuditEntry

    inventory.record_audit(AuditEntry(NOW - timedelta(days=200), "viejo", "ok"))
    inventory.record_audit(AuditEntry(NOW, "x" * 5000, "ok", "U1"))
    assert len(inventory.audit()) == 2
    assert len(inventory.audit()[0].query) == 200  # junk is bounded
    assert inventory.purge_audit(NOW - timedelta(days=180)) == 1
    assert [e.slack_user for e in inventory.audit()] == ["U1"]
