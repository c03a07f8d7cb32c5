"""The `beholder` command, run as a real subprocess against the simulator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.inventory import Inventory
from tests.conftest import API_PASSWORD, beholder


def test_import_then_sync_fills_the_inventory(synced):
    with Inventory(synced["BEHOLDER_DB"]) as inventory:
        assert {n.name for n in inventory.nodes()} == {"bras-norte", "bras-sur"}
        assert inventory.count_secrets("bras-norte") == 24
        assert [loc.secret.node for loc in inventory.locate("ana.martinez")] == [
            "bras-norte",
            "bras-sur",
        ]


def test_database_never_holds_a_password(synced):
    raw = Path(synced["BEHOLDER_DB"]).read_bytes()
    assert API_PASSWORD.encode() not in raw
    assert b"pw-jp" not in raw  # the subscriber's PPPoE password


def test_consumo_json(synced):
    result = beholder(synced, "consumo", "juan.perez", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["user"] == "juan.perez"
    assert data["node"] == "bras-norte"
    assert data["online"] is True
    assert (data["download_bps"], data["upload_bps"]) == (45_200_000, 2_100_000)
    assert (data["plan_download_bps"], data["plan_upload_bps"]) == (50_000_000, 10_000_000)


def test_consumo_json_numeric_user_and_unknown_plan(synced):
    data = json.loads(beholder(synced, "consumo", "20513", "--json").stdout)
    assert data["user"] == "20513"
    data = json.loads(beholder(synced, "consumo", "sofia.acuna", "--json").stdout)
    assert data["plan_download_bps"] is None
    assert data["plan_upload_bps"] is None


def test_consumo_terminal_view(synced):
    result = beholder(synced, "consumo", "carlos.lopez")
    assert result.returncode == 0
    assert "SIN SESIÓN PPPoE ACTIVA" in result.stdout
    assert "hung-up" in result.stdout


def test_unknown_user_message_and_exit_code(synced):
    result = beholder(synced, "consumo", "juan.peres")
    assert result.returncode == 3
    assert "juan.perez" in result.stderr  # suggested
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_router_error_message_and_exit_code(synced, network):
    network.set_fault("bras-norte", "bad_credentials")
    result = beholder(synced, "consumo", "juan.perez", "--json")
    assert result.returncode == 1
    assert "bras-norte" in result.stderr
    assert "contraseña" in result.stderr
    assert "Traceback" not in result.stderr
    assert API_PASSWORD not in result.stderr + result.stdout


def test_sync_keeps_rows_of_a_failed_node_and_names_it(synced, network):
    network.set_fault("bras-sur", "bad_credentials")
    result = beholder(synced, "sync")
    assert result.returncode == 1
    assert "bras-sur" in result.stderr
    with Inventory(synced["BEHOLDER_DB"]) as inventory:
        assert inventory.count_secrets("bras-sur") == 2  # kept
        assert inventory.count_secrets("bras-norte") == 24  # refreshed


def test_missing_credentials_are_named(env):
    del env["MIKROTIK_PASSWORD"]
    result = beholder(env, "consumo", "juan.perez")
    assert result.returncode == 2
    assert "MIKROTIK_PASSWORD" in result.stderr


def test_serve_without_tokens_is_a_clear_error(env):
    result = beholder(env, "serve")
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_file_is_read(tmp_path, env):
    dotenv = tmp_path / ".env"
    dotenv.write_text("MIKROTIK_TIMEOUT=abc\n")
    del env["MIKROTIK_TIMEOUT"]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "consumo", "x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "MIKROTIK_TIMEOUT" in result.stderr


def test_empty_user_is_usage_error(env):
    result = beholder(env, "consumo", " ")
    assert result.returncode == 2
    assert "Uso:" in result.stderr


def test_demo_runs_end_to_end(env):
    result = beholder(env, "demo", "--no-slack")
    assert result.returncode == 0, result.stderr
    assert "juan.perez" in result.stdout
    assert "Bajada" in result.stdout
    assert "¿Quisiste decir" in result.stdout
    assert "Traceback" not in result.stderr
