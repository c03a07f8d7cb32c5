"""The SQLite inventory: schema, migrations, lookups, node import."""

import sqlite3
from datetime import UTC, datetime

import pytest

from bot.errors import ConfigError, InventoryError, UnknownUser
from bot.inventory import SCHEMA_VERSION, Inventory, Node, Secret, read_nodes_csv

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def inventory(tmp_path):
    with Inventory(tmp_path / "beholder.db") as inv:
        inv.upsert_nodes(
            [Node("bras-norte", "127.0.0.1", 8728), Node("bras-sur", "127.0.0.2", 8729, True)]
        )
        inv.replace_secrets(
            "bras-norte",
            [
                Secret("juan.perez", "bras-norte", profile="plan-50M", comment="Pérez, Juan"),
                Secret("ana.martinez", "bras-norte"),
                Secret("20513", "bras-norte"),
            ],
            NOW,
        )
        inv.replace_secrets("bras-sur", [Secret("ana.martinez", "bras-sur")], NOW)
        yield inv


def test_new_file_gets_current_schema(tmp_path):
    path = tmp_path / "new.db"
    Inventory(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    columns = {r[1] for r in db.execute("PRAGMA table_info(ppp_secrets)")}
    assert "password" not in columns
    assert {"name", "node", "last_logged_out", "last_caller_id", "synced_at"} <= columns


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.db"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ConfigError, match="newer"):
        Inventory(path)


def test_reopening_keeps_data(tmp_path, inventory):
    inventory.close()
    with Inventory(inventory.path) as again:
        assert again.locate("juan.perez")[0].secret.profile == "plan-50M"


def test_locate_joins_the_node(inventory):
    [loc] = inventory.locate("juan.perez")
    assert loc.node == Node("bras-norte", "127.0.0.1", 8728, False)
    assert loc.secret.comment == "Pérez, Juan"


def test_locate_numeric_name(inventory):
    [loc] = inventory.locate("20513")
    assert loc.secret.name == "20513"


def test_locate_user_on_two_routers(inventory):
    assert [loc.secret.node for loc in inventory.locate("ana.martinez")] == [
        "bras-norte",
        "bras-sur",
    ]


def test_locate_secret_whose_node_is_missing(inventory):
    inventory.replace_secrets("bras-viejo", [Secret("solo.viejo", "bras-viejo")], NOW)
    [loc] = inventory.locate("solo.viejo")
    assert loc.node is None
    assert loc.secret.node == "bras-viejo"


def test_unknown_user_suggests_close_names(inventory):
    with pytest.raises(UnknownUser) as caught:
        inventory.locate("juan.peres")
    assert caught.value.suggestions[0] == "juan.perez"


def test_suggestions_ignore_case_and_accents(inventory):
    inventory.replace_secrets("bras-sur", [Secret("maría.pérez", "bras-sur")], NOW)
    assert "maría.pérez" in inventory.suggest("MARIA.PEREZ")
    assert len(inventory.suggest("a")) <= 5


def test_replace_secrets_only_touches_that_node(inventory):
    inventory.replace_secrets("bras-sur", [], NOW)
    assert inventory.count_secrets("bras-sur") == 0
    assert inventory.count_secrets("bras-norte") == 3


def test_upsert_updates_by_name(inventory):
    inventory.upsert_nodes([Node("bras-norte", "127.0.0.9", 8000)])
    assert [n for n in inventory.nodes() if n.name == "bras-norte"] == [
        Node("bras-norte", "127.0.0.9", 8000)
    ]


def test_read_nodes_csv(tmp_path):
    path = tmp_path / "nodes.csv"
    path.write_text("name,host,port,tls\nbras-a,127.0.0.1,8728,\nbras-b,127.0.0.2,8729,true\n")
    assert read_nodes_csv(path) == [
        Node("bras-a", "127.0.0.1", 8728),
        Node("bras-b", "127.0.0.2", 8729, True),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("nombre,ip\nx,y\n", "header"),
        ("name,host,port\nx,,8728\n", "line 2"),
        ("name,host,port\nx,127.0.0.1,api\n", "not a number"),
        ("name,host,port\nx,127.0.0.1,70000\n", "out of range"),
        ("name,host,port,tls\nx,127.0.0.1,1,maybe\n", "tls"),
    ],
)
def test_read_nodes_csv_names_the_problem(tmp_path, content, message):
    path = tmp_path / "nodes.csv"
    path.write_text(content)
    with pytest.raises(InventoryError, match=message):
        read_nodes_csv(path)
