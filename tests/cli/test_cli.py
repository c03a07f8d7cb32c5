"""The `beholder` command, run as a real subprocess against the simulator."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.inventory.store import Inventory
from bot.model import shown_fingerprint
from bot.sim.model import RouterConfig, Subscriber
from bot.sim.network import SimNetwork
from bot.sim.tls import self_signed
from tests.conftest import API_PASSWORD, API_USER, beholder, beholder_argv


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
    # The two diagnoses: a lossy last mile with its figures, a dominant flow named.
    assert "Problema en la última milla (pérdida 30 %, latencia 4" in result.stdout
    assert "La mayor parte es 203.0.113.50 tcp/1935 (RTMP)" in result.stdout
    assert "Traceback" not in result.stderr


def test_nodes_add_list_remove(env):
    assert beholder(env, "nodes", "add", "bras-x", "127.0.0.1", "--tls").returncode == 0
    listing = beholder(env, "nodes", "list").stdout
    assert "bras-x" in listing
    assert "8729" in listing
    assert "never" in listing
    result = beholder(env, "nodes", "remove", "bras-x")
    assert result.returncode == 0
    assert "bras-x" not in beholder(env, "nodes", "list").stdout
    again = beholder(env, "nodes", "remove", "bras-x")
    assert again.returncode == 3
    assert "no node named" in again.stderr


def test_nodes_list_shows_stale_nodes(synced, network):
    network.set_fault("bras-sur", "bad_credentials")
    beholder(synced, "sync")
    listing = beholder(synced, "nodes", "list").stdout
    [sur] = [line for line in listing.splitlines() if line.startswith("bras-sur")]
    assert "STALE since 20" in sur
    assert "RouterAuthFailed" in sur


def test_nodes_check(synced, network):
    network.set_fault("bras-sur", "bad_credentials")
    result = beholder(synced, "nodes", "check")
    assert result.returncode == 1
    [norte] = [line for line in result.stdout.splitlines() if line.startswith("bras-norte")]
    assert "ok" in norte
    assert "7.16" in norte
    assert norte.endswith(" 22")  # live PPPoE sessions visible to the API user
    [sur] = [line for line in result.stdout.splitlines() if line.startswith("bras-sur")]
    assert "FAILED: RouterAuthFailed" in sur
    assert "bras-sur" in result.stderr


def test_per_node_credentials_override_the_global_ones(synced, network):
    def rotate(sim):
        sim.config.password = "only-for-sur"

    network.call("bras-sur", rotate)
    assert beholder(synced, "nodes", "check", "bras-sur").returncode == 1
    env = {
        **synced,
        "MIKROTIK_USER_BRAS_SUR": "beholder",
        "MIKROTIK_PASSWORD_BRAS_SUR": "only-for-sur",
    }
    result = beholder(env, "nodes", "check", "bras-sur")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "only-for-sur" not in result.stdout + result.stderr


def test_connections_import_and_reading_shows_the_customer(synced, tmp_path):
    csv = tmp_path / "ispcube.csv"
    csv.write_text(
        "pppoe_user,customer_id,customer_name,plan_download_mbps,plan_upload_mbps,status\n"
        "juan.perez,1001,Juan Pérez,100,20,activo\nfantasma,1002,Nadie,10,1,activo\n",
        encoding="utf-8",
    )
    result = beholder(synced, "connections", "import", str(csv))
    assert result.returncode == 0, result.stderr
    assert "2 connection(s) imported" in result.stdout
    assert "1 of them name a PPPoE user that no synced router has" in result.stdout
    data = json.loads(beholder(synced, "consumo", "juan.perez", "--json").stdout)
    assert (data["linked"], data["customer_name"], data["warnings"]) == (
        True,
        "Juan Pérez",
        ["plan_mismatch"],
    )
    data = json.loads(beholder(synced, "consumo", "20513", "--json").stdout)
    assert data["linked"] is False


def test_consumo_by_customer_name_and_ip(synced):
    data = json.loads(beholder(synced, "consumo", "Pérez", "Juan", "--json").stdout)
    assert (data["user"], data["matched_by"]) == ("juan.perez", "name")
    data = json.loads(beholder(synced, "consumo", "100.64.0.10", "--json").stdout)
    assert (data["user"], data["matched_by"]) == ("juan.perez", "ip")


def test_consumo_ambiguous_lists_candidates(synced):
    result = beholder(synced, "consumo", "cliente1")
    assert result.returncode == 3
    assert "cliente10" in result.stderr
    assert "Elegí uno" in result.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["bras-q", "10.0.0.9", "--port", "999999"], "port 999999 is out of range (1-65535)"),
        (["", ""], "name and host are required"),
        (["bras\x01q", "10.0.0.9"], "field 1 has a control character"),
    ],
)
def test_nodes_add_checks_the_node_as_the_csv_import_does(env, args, said):
    """Regression: ``nodes add x h --port 999999`` answered with the /consumo usage
    text and ``nodes add "" ""`` stored a node with no name or host. Now both say what
    is wrong, as a bad row of the nodes CSV would, and store nothing."""
    result = beholder(env, "nodes", "add", *args)
    assert result.returncode == 3
    assert said in result.stderr
    assert "Traceback" not in result.stderr
    assert "/consumo" not in result.stderr
    with Inventory(env["BEHOLDER_DB"]) as inventory:
        assert inventory.nodes() == []


@pytest.mark.parametrize(
    ("limit", "said"),
    [
        ("99999999999999999999", "is not between 1 and 100,000"),
        ("0", "0 is not between 1 and 100,000"),
        ("-5", "'-5' is not a whole number"),
        ("1e3", "'1e3' is not a whole number"),
    ],
)
def test_audit_limit_is_bounded_with_a_clear_message(limit, said, capsys):
    """Regression: ``audit --limit 99999999999999999999`` ended in an OverflowError
    traceback from SQLite. Now argparse refuses it, saying the bounds."""
    with pytest.raises(SystemExit) as exited:
        cli.main(["audit", f"--limit={limit}"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert said in err
    assert "Traceback" not in err


def test_audit_command_filters_by_user_and_time(env):
    from datetime import UTC, datetime, timedelta

    from bot.model import AuditEntry

    now = datetime.now(UTC)
    with Inventory(env["BEHOLDER_DB"]) as inventory:
        inventory.record_audit(
            AuditEntry(now - timedelta(days=10), "viejo", "ok", "U1", "C1", "command")
        )
        inventory.record_audit(
            AuditEntry(
                now, "juan.perez", "ok", "U1", "C1", "command", "juan.perez", "bras-norte", 42
            )
        )
        inventory.record_audit(AuditEntry(now, "otro", "not_found", "U2", "C1", "mention"))
    recent = beholder(env, "audit", "--since", "7d", "--user", "U1")
    assert recent.returncode == 0, recent.stderr
    assert "juan.perez" in recent.stdout
    assert "viejo" not in recent.stdout
    assert "otro" not in recent.stdout
    everything = beholder(env, "audit").stdout
    assert "viejo" in everything
    assert "otro" in everything
    bad = beholder(env, "audit", "--since", "ayer")
    assert bad.returncode == 2
    assert "ayer" in bad.stderr


def test_cli_questions_are_audited_too(synced):
    beholder(synced, "consumo", "juan.perez", "--json")
    beholder(synced, "consumo", "nadie.existe")
    with Inventory(synced["BEHOLDER_DB"]) as inventory:
        entries = {e.query: e for e in inventory.audit()}
    ok = entries["juan.perez"]
    assert (ok.source, ok.outcome, ok.pppoe_user, ok.node) == (
        "cli",
        "ok",
        "juan.perez",
        "bras-norte",
    )
    assert ok.channel.startswith("cli:")
    assert entries["nadie.existe"].outcome == "not_found"


# -- router TLS --------------------------------------------------------------------------


@pytest.fixture
def tls_routers() -> Iterator[SimNetwork]:
    """A router with a self-signed certificate and one without any (anonymous DH)."""
    configs = [
        RouterConfig(
            name,
            username=API_USER,
            password=API_PASSWORD,
            tls=True,
            certificate=self_signed(name) if name == "bras-cert" else None,
        )
        for name in ("bras-cert", "bras-anon")
    ]
    with SimNetwork(configs) as network:
        yield network


def _unattended(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`beholder` with stdin not a terminal, as in a script or cron job."""
    return subprocess.run(
        beholder_argv(*args),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_nodes_trust_pins_a_certificate_and_refuses_a_changed_one(env, tls_routers):
    """Trust on first use: `nodes trust` shows subject, validity and SHA-256 without
    ever logging in, pins it once confirmed, after which the node is read; a changed
    certificate is refused naming the node and both fingerprints until --replace."""
    port = str(tls_routers.port("bras-cert"))
    first = tls_routers.call("bras-cert", lambda sim: sim.config.certificate)
    assert (
        beholder(env, "nodes", "add", "bras-cert", "127.0.0.1", "--port", port, "--tls").returncode
        == 0
    )
    refused = beholder(env, "nodes", "check", "bras-cert")
    assert refused.returncode == 1
    assert "RouterCertificateError" in refused.stdout

    unconfirmed = _unattended(env, "nodes", "trust", "bras-cert")
    assert unconfirmed.returncode == 2
    assert "--yes" in unconfirmed.stderr
    assert "CN=bras-cert" in unconfirmed.stdout
    assert "self-signed" in unconfirmed.stdout
    assert shown_fingerprint(first.sha256) in unconfirmed.stdout
    assert " → " in unconfirmed.stdout  # notBefore → notAfter
    with Inventory(env["BEHOLDER_DB"]) as inventory:
        assert inventory.node("bras-cert").tls_fingerprint is None

    trusted = _unattended(env, "nodes", "trust", "bras-cert", "--yes")
    assert trusted.returncode == 0, trusted.stderr
    assert "pinned" in trusted.stdout
    assert tls_routers.counters("bras-cert").logins == 0  # trust never logs in
    assert "yes (pinned)" in beholder(env, "nodes", "list").stdout
    assert beholder(env, "nodes", "check", "bras-cert").returncode == 0
    assert tls_routers.counters("bras-cert").logins == 1

    renewed = self_signed("bras-cert")
    tls_routers.set_certificate("bras-cert", renewed)
    changed = _unattended(env, "nodes", "trust", "bras-cert", "--yes")
    assert changed.returncode == 1
    assert "bras-cert" in changed.stderr
    assert shown_fingerprint(first.sha256) in changed.stderr
    assert shown_fingerprint(renewed.sha256) in changed.stderr
    assert "--replace" in changed.stderr
    assert "Traceback" not in changed.stderr
    replaced = _unattended(env, "nodes", "trust", "bras-cert", "--yes", "--replace")
    assert replaced.returncode == 0, replaced.stderr
    with Inventory(env["BEHOLDER_DB"]) as inventory:
        assert inventory.node("bras-cert").tls_fingerprint == renewed.sha256
        trusts = [e for e in inventory.audit() if e.query.startswith("nodes trust")]
    assert [(e.outcome, e.source, e.node) for e in trusts] == [
        ("replaced", "cli", "bras-cert"),
        ("pinned", "cli", "bras-cert"),
    ]
    assert tls_routers.counters("bras-cert").logins == 1


def test_insecure_nodes_are_named_in_a_warning(env, tls_routers):
    """`tls=insecure` is an explicit opt-in: `nodes add` and `nodes check` warn,
    naming the node; such a router (no certificate) is still read."""
    port = str(tls_routers.port("bras-anon"))
    added = beholder(
        env, "nodes", "add", "bras-anon", "127.0.0.1", "--port", port, "--tls", "insecure"
    )
    assert added.returncode == 0, added.stderr
    assert "tls=insecure" in added.stdout
    assert "WARNING" in added.stderr
    assert "bras-anon" in added.stderr
    check = beholder(env, "nodes", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert (
        "WARNING: API-SSL without certificate verification (tls=insecure) on bras-anon"
        in check.stderr
    )
    [row] = [line for line in check.stdout.splitlines() if line.startswith("bras-anon")]
    assert "tls=insecure" in row
    assert " ok " in row
    bad = beholder(env, "nodes", "add", "bras-x", "127.0.0.1", "--tls", "maybe")
    assert bad.returncode == 2
    assert "no, yes or insecure" in bad.stderr


def test_nodes_trust_asks_on_a_terminal(env, tls_routers):
    """On a terminal `nodes trust` asks before pinning: "n" pins nothing, "y" pins."""
    port = str(tls_routers.port("bras-cert"))
    beholder(env, "nodes", "add", "bras-cert", "127.0.0.1", "--port", port, "--tls")
    for answer, code in ((b"n\n", 1), (b"y\n", 0)):
        controller, terminal = pty.openpty()
        try:
            os.write(controller, answer)
            result = subprocess.run(
                beholder_argv("nodes", "trust", "bras-cert"),
                env=env,
                stdin=terminal,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        finally:
            os.close(controller)
            os.close(terminal)
        assert result.returncode == code, result.stdout + result.stderr
        assert "Pin this certificate for bras-cert? [y/N]" in result.stdout
    with Inventory(env["BEHOLDER_DB"]) as inventory:
        pinned = inventory.node("bras-cert").tls_fingerprint
    assert pinned == tls_routers.call("bras-cert", lambda sim: sim.config.certificate.sha256)


#: What an impostor writes in its certificate's subject (or a router in its identity)
#: to draw over the operator's terminal: erase the line, print a forged fingerprint,
#: then hide whatever follows (SGR 8, conceal), reversed by a bidi override.
HOSTILE = "r\r\x1b[2K  SHA-256 AA:BB\n\x1b[8m\u202egnp\x9b"


def _no_terminal_controls(output: str) -> None:
    for char in ("\x1b", "\r", "\u202e", "\x9b"):
        assert char not in output, repr(char)
    assert "\\x1b[2K" in output  # shown, not obeyed


def test_nodes_trust_shows_a_hostile_certificate_subject_as_escapes(env):
    """Regression: `nodes trust` printed the certificate's subject raw, so an
    impostor's subject with ``\\r``, ESC sequences, a newline and a bidi override
    drew a forged fingerprint over the real one. Now every control character is
    shown as an escape; the one fingerprint line is the real one."""
    impostor = self_signed(HOSTILE)
    config = RouterConfig(
        "bras-falso", username=API_USER, password=API_PASSWORD, tls=True, certificate=impostor
    )
    with SimNetwork([config]) as network:
        port = str(network.port("bras-falso"))
        beholder(env, "nodes", "add", "bras-falso", "127.0.0.1", "--port", port, "--tls")
        shown = _unattended(env, "nodes", "trust", "bras-falso")
        assert network.counters("bras-falso").logins == 0
    assert shown.returncode == 2, shown.stderr
    _no_terminal_controls(shown.stdout)
    assert "\\n" in shown.stdout
    assert "\\u202e" in shown.stdout
    [line] = [line for line in shown.stdout.splitlines() if line.lstrip().startswith("SHA-256")]
    assert line == "  SHA-256    " + shown_fingerprint(impostor.sha256)
    [subject] = [line for line in shown.stdout.splitlines() if line.startswith("  subject")]
    assert "SHA-256 AA:BB" in subject


def test_nodes_check_and_list_show_router_and_csv_text_as_escapes(env, tmp_path):
    """Regression: `nodes check` printed the router's identity and version raw, and
    `nodes list` the CSV's node names: ESC sequences in them reached the terminal.
    Now a CSV name with control characters is refused at import, and the router's
    text is shown as escapes, on one table line each."""
    config = RouterConfig(
        "bras-norte", HOSTILE, "7.16" + HOSTILE, username=API_USER, password=API_PASSWORD
    )
    with SimNetwork([config]) as network:
        csv = tmp_path / "nodes.csv"
        port = network.port("bras-norte")
        hostile_name = "bras\x1b[2K\u202e\x9b"  # a CSV row cannot hold a bare \\r
        csv.write_text(
            f"name,host,port\nbras-norte,127.0.0.1,{port}\n{hostile_name},127.0.0.1,{port}\n",
            encoding="utf-8",
            newline="",
        )
        refused = beholder(env, "nodes", "import", str(csv))
        assert refused.returncode != 0
        assert "line 3" in refused.stderr
        assert "\x1b" not in refused.stderr
        csv.write_text(f"name,host,port\nbras-norte,127.0.0.1,{port}\n", encoding="utf-8")
        assert beholder(env, "nodes", "import", str(csv)).returncode == 0
        check = beholder(env, "nodes", "check", "bras-norte")
    assert check.returncode == 0, check.stderr
    _no_terminal_controls(check.stdout)
    assert len(check.stdout.splitlines()) == 2  # header and one row
    listed = beholder(env, "nodes", "list")
    assert "\x1b" not in listed.stdout
    assert len(listed.stdout.splitlines()) == 2


def test_a_tls_node_is_not_turned_plain_without_saying_so(env, tmp_path):
    """Regression: re-importing the nodes CSV (blank or ``no`` tls) or `nodes add`
    without --tls silently turned a ``tls=yes`` node plain, and its password then
    travelled in clear. Now a blank tls (and `nodes add` without --tls) keeps the
    node's mode; an explicit ``no`` is refused, naming the node, unless
    --allow-downgrade, which warns naming it."""
    added = beholder(env, "nodes", "add", "bras-norte", "127.0.0.1", "--tls")
    assert added.returncode == 0, added.stderr
    csv = tmp_path / "nodes.csv"

    def tls_after_import(row_tls: str, *options: str) -> tuple[str, subprocess.CompletedProcess]:
        csv.write_text(f"name,host,port,tls\nbras-norte,127.0.0.1,8729,{row_tls}\n")
        result = beholder(env, "nodes", "import", str(csv), *options)
        with Inventory(env["BEHOLDER_DB"]) as inventory:
            return inventory.node("bras-norte").tls.value, result

    assert tls_after_import("")[0] == "yes"
    again = beholder(env, "nodes", "add", "bras-norte", "127.0.0.2")
    assert "tls=yes" in again.stdout
    tls, refused = tls_after_import("no")
    assert tls == "yes"
    assert refused.returncode == 2
    assert "bras-norte" in refused.stderr
    assert "--allow-downgrade" in refused.stderr
    plain_add = beholder(env, "nodes", "add", "bras-norte", "127.0.0.1", "--tls", "no")
    assert plain_add.returncode == 2
    tls, allowed = tls_after_import("no", "--allow-downgrade")
    assert tls == "no"
    assert allowed.returncode == 0, allowed.stderr
    assert "WARNING" in allowed.stderr
    assert "bras-norte" in allowed.stderr


@pytest.mark.parametrize(
    "name", ["MIKROTIK_PASSWORD", "MIKROTIK_PASSWORD_BRAS_NORTE", "SLACK_BOT_TOKEN"]
)
def test_a_credential_that_is_not_utf8_is_named_not_a_traceback(env, name):
    """Regression: a Latin-1 byte in MIKROTIK_PASSWORD (an EnvironmentFile saved as
    Latin-1; Python keeps it as a lone surrogate) made every command die with a
    UnicodeEncodeError from the log redactor. Now it is a configuration error that
    names the variable, without its value."""
    raw = {k.encode(): v.encode() for k, v in env.items()}
    raw[name.encode()] = b"Contrase\xf1aSecreta42"
    if name.endswith("_BRAS_NORTE"):
        raw[b"MIKROTIK_USER_BRAS_NORTE"] = b"beholder"
    result = subprocess.run(
        beholder_argv("nodes", "list"), env=raw, capture_output=True, timeout=60, check=False
    )
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, stderr
    assert name in stderr
    assert "UTF-8" in stderr
    assert "Traceback" not in stderr
    assert b"Secreta42" not in result.stderr + result.stdout


def test_consumo_shows_router_text_as_escapes(env, tmp_path):
    """Regression: the consumo terminal view printed the router's comment and MAC
    raw: ESC sequences and bidi overrides in them reached the terminal. Now they
    are escapes; --json stays valid JSON with the same values."""
    subscriber = Subscriber(
        "hostil",
        "pw",
        comment="Cliente" + HOSTILE,
        online=True,
        caller_id="AA:BB\x1b[8m",
        plan=(1_000_000, 5_000_000),
        fixed_traffic=(1, 900_000),
    )
    config = RouterConfig(
        "bras-norte", username=API_USER, password=API_PASSWORD, subscribers=[subscriber]
    )
    with SimNetwork([config]) as network:
        csv = tmp_path / "nodes.csv"
        csv.write_text(f"name,host,port\nbras-norte,127.0.0.1,{network.port('bras-norte')}\n")
        assert beholder(env, "nodes", "import", str(csv)).returncode == 0
        synced = beholder(env, "sync")
        shown = beholder(env, "consumo", "hostil")
        as_json = beholder(env, "consumo", "hostil", "--json")
    assert synced.returncode == 0, synced.stderr
    assert shown.returncode == 0, shown.stderr
    _no_terminal_controls(shown.stdout)
    assert "AA:BB\\x1b[8m" in shown.stdout
    for char in ("\x1b", "\r", "\u202e", "\x9b"):
        assert char not in as_json.stdout
    data = json.loads(as_json.stdout)
    assert (data["caller_id"], data["comment"]) == ("AA:BB\x1b[8m", "Cliente" + HOSTILE)
