"""`beholder doctor` against the simulator and the fake Slack: one line per check,
ok / warn / fail with what to do, and a non-zero exit on any fail."""

from __future__ import annotations

import os
import socket
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main as cli
from bot.cli.doctor import diagnose
from bot.cli.findings import Finding, Level, report
from bot.config import Settings
from bot.inventory.schema import SCHEMA_VERSION
from bot.model import Node, TlsMode
from bot.sim.model import RouterConfig
from bot.sim.network import SimNetwork
from bot.sim.tls import self_signed
from tests.conftest import API_PASSWORD, API_USER, World, beholder
from tests.support.fake_slack import FakeSlack


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    """A private env file (its settings come from `Settings` in these tests)."""
    path = tmp_path / "beholder.env"
    path.write_text("# Beholder's settings\n")
    path.chmod(0o600)
    return path


def run(sim_world: World, fake: FakeSlack, env_file: Path, **overrides: Any) -> list[Finding]:
    """`diagnose` on settings for the simulated routers and the fake Slack."""
    options: dict[str, Any] = {
        "db_path": sim_world.inventory.path,
        "mikrotik_user": API_USER,
        "mikrotik_password": API_PASSWORD,
        "mikrotik_timeout": 2.0,
        "slack_bot_token": fake.bot_token,
        "slack_app_token": fake.app_token,
        "slack_api_url": fake.api_url,
    }
    now = overrides.pop("now", None)
    options.update(overrides)
    return diagnose(Settings(**options), env_file, now=now)


def by_subject(findings: list[Finding]) -> dict[str, Finding]:
    return {f.subject.split(" (")[0]: f for f in findings}


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_all_ok_on_a_good_setup(sim_world, fake, env_file):
    findings = run(sim_world, fake, env_file)
    assert [f for f in findings if f.level is not Level.OK] == []
    seen = by_subject(findings)
    db = str(sim_world.inventory.path)
    for subject in (
        "settings",
        f"file {env_file}",
        f"file {Path(db).resolve()}",
        "slack bot token",
        "slack app token",
        "slack scopes",
        f"inventory {db}",
        "sync bras-norte",
        "sync bras-sur",
        "node bras-norte",
        "node bras-sur",
    ):
        assert subject in seen, subject
    assert "RouterOS 7.16" in seen["node bras-norte"].text
    assert "plain API (tls=no)" in seen["node bras-norte"].text
    assert "quick_check" in seen[f"inventory {db}"].text
    assert "24 secrets" in seen["sync bras-norte"].text
    assert report(findings).endswith(f"{len(findings)} ok, 0 warn, 0 fail")


def test_a_bad_router_password_fails_that_node_saying_what_to_do(
    sim_world, network, fake, env_file
):
    network.set_fault("bras-sur", "bad_credentials")
    seen = by_subject(run(sim_world, fake, env_file))
    assert seen["node bras-norte"].level is Level.OK
    sur = seen["node bras-sur"]
    assert sur.level is Level.FAIL
    assert "rejected Beholder's username or password" in sur.text
    assert "check the API account (MIKROTIK_USER) on that router" in sur.text


def test_an_unreachable_node_fails_and_so_does_its_missing_sync(sim_world, fake, env_file):
    sim_world.inventory.upsert_nodes([Node("bras-caido", "127.0.0.1", closed_port())])
    seen = by_subject(run(sim_world, fake, env_file))
    down = seen["node bras-caido"]
    assert down.level is Level.FAIL
    assert "refused the API connection" in down.text
    assert "/ip/service" in down.text  # what to check
    never = seen["sync bras-caido"]
    assert never.level is Level.FAIL
    assert "never synced" in never.text
    assert "beholder sync" in never.text
    assert seen["node bras-norte"].level is Level.OK


def test_api_ssl_nodes_certificates(sim_world, fake, env_file):
    """A pinned node is ok with its certificate's validity (a warning within 30 days of
    its end); an unpinned self-signed one fails, saying how to pin it; an unverified
    one (tls=insecure) is a warning naming the command that fixes it."""
    configs = [
        RouterConfig(
            name, username=API_USER, password=API_PASSWORD, tls=True, certificate=self_signed(name)
        )
        for name in ("bras-pin", "bras-new", "bras-anon")
    ]
    with SimNetwork(configs) as routers:
        pinned = routers.call("bras-pin", lambda sim: sim.config.certificate)
        modes = {"bras-pin": TlsMode.YES, "bras-new": TlsMode.YES, "bras-anon": TlsMode.INSECURE}
        sim_world.inventory.upsert_nodes(
            Node(name, "127.0.0.1", routers.port(name), mode) for name, mode in modes.items()
        )
        sim_world.inventory.pin_certificate("bras-pin", pinned.sha256)
        seen = by_subject(run(sim_world, fake, env_file))
        later = by_subject(
            run(sim_world, fake, env_file, now=datetime.now(UTC) + timedelta(days=350))
        )
    assert seen["node bras-pin"].level is Level.OK
    assert "API-SSL, certificate verified (pinned)" in seen["node bras-pin"].text
    valid = seen["certificate bras-pin"]
    assert valid.level is Level.OK
    assert "(self-signed)" in valid.text
    assert valid.text.startswith("valid until ")
    ending = later["certificate bras-pin"]
    assert ending.level is Level.WARN
    assert "renew it on the router, then beholder nodes trust bras-pin --replace" in ending.text
    unpinned = seen["node bras-new"]
    assert unpinned.level is Level.FAIL
    assert "Certificate not verified on bras-new" in unpinned.text
    assert "beholder nodes trust bras-new" in unpinned.text
    assert "certificate bras-new" not in seen  # not looked at: the node failed
    insecure = seen["node bras-anon"]
    assert insecure.level is Level.WARN
    assert "NOT verified (tls=insecure)" in insecure.text
    assert "beholder nodes trust bras-anon" in insecure.text


def test_a_bad_slack_token_fails(sim_world, fake, env_file):
    seen = by_subject(
        run(sim_world, fake, env_file, slack_bot_token="xoxb-revoked", slack_app_token="xapp-old")
    )
    bot = seen["slack bot token"]
    assert bot.level is Level.FAIL
    assert "auth.test refused it: invalid_auth" in bot.text
    assert "reinstall the app" in bot.text
    app = seen["slack app token"]
    assert app.level is Level.FAIL
    assert "invalid_auth" in app.text
    assert "Socket Mode" in app.text
    assert "slack scopes" not in seen  # nothing to compare without a working token


def test_slack_out_of_reach_fails_saying_so(sim_world, fake, env_file):
    nowhere = f"http://127.0.0.1:{closed_port()}/api/"
    seen = by_subject(run(sim_world, fake, env_file, slack_api_url=nowhere))
    for subject, method in (("slack bot token", "auth.test"), ("slack app token", "apps.")):
        assert seen[subject].level is Level.FAIL
        assert f"{method}" in seen[subject].text
        assert f"got no answer from {nowhere}" in seen[subject].text
        assert "outbound HTTPS" in seen[subject].text


def test_no_scopes_header_is_a_warning(sim_world, fake, env_file):
    fake.scopes = None
    seen = by_subject(run(sim_world, fake, env_file))
    assert seen["slack bot token"].level is Level.OK
    assert seen["slack scopes"].level is Level.WARN
    assert "no x-oauth-scopes header" in seen["slack scopes"].text


def test_swapped_slack_tokens_fail_without_asking_slack(sim_world, fake, env_file):
    seen = by_subject(
        run(
            sim_world,
            fake,
            env_file,
            slack_bot_token=fake.app_token,
            slack_app_token=fake.bot_token,
        )
    )
    assert seen["slack bot token"].level is Level.FAIL
    assert "not a bot token (xoxb-…)" in seen["slack bot token"].text
    assert seen["slack app token"].level is Level.FAIL
    assert "not an app-level token (xapp-…)" in seen["slack app token"].text
    assert fake.calls("auth.test") == []
    assert fake.calls("apps.connections.open") == []


def test_http_mode_needs_no_app_token(sim_world, fake, env_file):
    seen = by_subject(
        run(sim_world, fake, env_file, slack_app_token="", slack_signing_secret="s1gn1ng-secret")
    )
    assert seen["slack app token"].level is Level.OK
    assert "serve --http" in seen["slack app token"].text
    assert fake.calls("apps.connections.open") == []


@pytest.mark.parametrize(
    ("scopes", "overrides", "subject", "level", "said"),
    [
        (
            {"files:write"},
            {},
            "slack scope files:write",
            Level.WARN,
            "needed for the live view's chart",
        ),
        ({"commands"}, {}, "slack scope commands", Level.FAIL, "needed for the /consumo command"),
        (
            {"usergroups:read"},
            {"allowed_usergroups": ("@soporte-n2",)},
            "slack scope usergroups:read",
            Level.FAIL,
            "BEHOLDER_ALLOWED_USERGROUPS",
        ),
        (
            {"usergroups:read"},
            {},
            "slack scope usergroups:read",
            Level.WARN,
            "BEHOLDER_ALLOWED_USERGROUPS",
        ),
    ],
    ids=["chart-scope", "command-scope", "groups-in-use", "groups-unused"],
)
def test_a_missing_scope_is_named_with_what_it_is_for(
    sim_world, fake, env_file, scopes, overrides, subject, level, said
):
    fake.scopes = fake.scopes - scopes
    seen = by_subject(run(sim_world, fake, env_file, **overrides))
    assert seen[subject].level is level
    assert said in seen[subject].text
    assert "reinstall the app" in seen[subject].text
    assert "slack scopes" not in seen  # no "all granted" line beside it


def test_a_scope_beyond_the_manifest_is_a_warning(sim_world, fake, env_file):
    fake.scopes = fake.scopes | {"users:read"}
    seen = by_subject(run(sim_world, fake, env_file))
    assert seen["slack scopes"].level is Level.WARN
    assert "granted beyond manifest.yml: users:read" in seen["slack scopes"].text


def test_a_sync_older_than_twice_the_interval_is_a_warning(sim_world, fake, env_file):
    soon = datetime.now(UTC) + timedelta(minutes=20)
    late = datetime.now(UTC) + timedelta(minutes=31)
    assert by_subject(run(sim_world, fake, env_file, now=soon))["sync bras-sur"].level is Level.OK
    old = by_subject(run(sim_world, fake, env_file, now=late))["sync bras-sur"]
    assert old.level is Level.WARN
    assert "last good sync 31 min ago" in old.text
    assert "more than twice BEHOLDER_SYNC_INTERVAL (30 min)" in old.text
    assert "beholder sync" in old.text


def test_a_failed_last_sync_is_a_warning_naming_why(sim_world, fake, env_file):
    sim_world.inventory.mark_sync_failed("bras-sur", "RouterTimeout: no answer", datetime.now(UTC))
    stale = by_subject(run(sim_world, fake, env_file))["sync bras-sur"]
    assert stale.level is Level.WARN
    assert "the last attempt failed (RouterTimeout: no answer)" in stale.text


def test_file_permissions(sim_world, fake, env_file):
    env_file.chmod(0o640)  # root:beholder, as an EnvironmentFile may be
    db = Path(sim_world.inventory.path).resolve()
    seen = by_subject(run(sim_world, fake, env_file))
    assert seen[f"file {env_file}"].level is Level.OK
    env_file.chmod(0o644)
    db.chmod(0o640)
    seen = by_subject(run(sim_world, fake, env_file))
    readable = seen[f"file {env_file}"]
    assert readable.level is Level.FAIL
    assert f"chmod 600 {env_file}" in readable.text
    shared = seen[f"file {db}"]
    assert shared.level is Level.WARN
    assert f"chmod 600 {db}" in shared.text


def test_a_missing_inventory_fails_and_is_not_created(fake, env_file, tmp_path):
    missing = tmp_path / "typo.db"
    settings = Settings(
        db_path=missing,
        slack_bot_token=fake.bot_token,
        slack_app_token=fake.app_token,
        slack_api_url=fake.api_url,
    )
    seen = by_subject(diagnose(settings, env_file))
    assert seen[f"inventory {missing}"].level is Level.FAIL
    assert "beholder nodes import" in seen[f"inventory {missing}"].text
    assert not missing.exists()


def test_a_damaged_or_newer_inventory_fails(fake, env_file, tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not an SQLite file at all" * 100)
    damaged = tmp_path / "damaged.db"
    with sqlite3.connect(damaged) as db:
        db.execute("CREATE TABLE t (a TEXT)")
        db.executemany("INSERT INTO t VALUES (?)", [("x" * 200,)] * 200)
    header = bytearray(damaged.read_bytes())
    header[36:40] = (3).to_bytes(4, "big")  # three free pages, says the header; there are none
    damaged.write_bytes(bytes(header))
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as db:
        db.execute("PRAGMA user_version = 99")
    for path, said in (
        (garbage, "damaged or not a Beholder database"),
        (damaged, "damaged (quick_check: *** in database main *** Main freelist: size is 0"),
        (newer, "written by a newer Beholder (schema 99"),
    ):
        settings = Settings(
            db_path=path,
            slack_bot_token=fake.bot_token,
            slack_app_token=fake.app_token,
            slack_api_url=fake.api_url,
        )
        finding = by_subject(diagnose(settings, env_file))[f"inventory {path}"]
        assert finding.level is Level.FAIL
        assert said in finding.text


def test_beholder_doctor_as_a_process(sim_world, network, fake, env):
    """The real command: a bad password and an unreachable node are fail lines, the
    exit code is 1, and no credential is printed."""
    network.set_fault("bras-sur", "bad_credentials")
    sim_world.inventory.upsert_nodes([Node("bras-caido", "127.0.0.1", closed_port())])
    env = {
        **env,
        "BEHOLDER_DB": str(sim_world.inventory.path),
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_APP_TOKEN": fake.app_token,
        "SLACK_API_URL": fake.api_url,
    }
    result = beholder(env, "doctor")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("ok    node bras-norte") for line in lines), lines
    assert any(line.startswith("fail  node bras-sur") for line in lines), lines
    assert any(line.startswith("fail  node bras-caido") for line in lines), lines
    assert any(line.startswith("ok    slack scopes") for line in lines), lines
    assert lines[-1].endswith("3 fail")  # the two nodes, and bras-caido never synced
    output = result.stdout + result.stderr
    for secret in (API_PASSWORD, fake.bot_token, fake.app_token, *fake.tickets):
        assert secret not in output


def test_settings_that_do_not_parse_are_a_fail_line(monkeypatch, capsys):
    monkeypatch.setenv("MIKROTIK_TIMEOUT", "soon")
    assert cli.main(["--env-file", os.devnull, "doctor"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("fail  settings: MIKROTIK_TIMEOUT must be a number, got 'soon'")
    assert f"ok    file {os.devnull}: no such file" in out
    assert "Traceback" not in err


def test_an_older_inventory_is_a_warning_and_is_left_as_it_is(sim_world, fake, env_file):
    path = Path(sim_world.inventory.path)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    finding = by_subject(run(sim_world, fake, env_file))[f"inventory {path}"]
    assert finding.level is Level.WARN
    said = f"schema {SCHEMA_VERSION - 1} of {SCHEMA_VERSION}: the next beholder command upgrades"
    assert said in finding.text
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION - 1
