"""Settings validation and secret redaction in logs."""

import logging

import pytest

from bot import logs
from bot.config import Settings
from bot.errors import ConfigError


def test_defaults():
    settings = Settings.from_env({})
    assert settings.mikrotik_timeout == 5.0
    assert settings.mikrotik_max_sessions == 4
    assert settings.slack_api_url == "https://slack.com/api/"


def test_api_url_gets_its_trailing_slash():
    assert Settings.from_env({"SLACK_API_URL": "http://127.0.0.1:9/api"}).slack_api_url.endswith(
        "/api/"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MIKROTIK_TIMEOUT", "soon"),
        ("MIKROTIK_TIMEOUT", "0"),
        ("MIKROTIK_MAX_SESSIONS", "-1"),
        ("MIKROTIK_MAX_SESSIONS", "2.5"),
        ("BEHOLDER_LOG_LEVEL", "LOUD"),
    ],
)
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_tls_ca_must_hold_a_certificate(tmp_path):
    """A MIKROTIK_TLS_CA that is missing or not PEM is said once at start, naming
    the variable, instead of failing every API-SSL connection."""
    with pytest.raises(ConfigError, match=r"MIKROTIK_TLS_CA.*not a readable file"):
        Settings.from_env({"MIKROTIK_TLS_CA": str(tmp_path / "missing.pem")})
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match=r"MIKROTIK_TLS_CA.*no usable PEM certificate"):
        Settings.from_env({"MIKROTIK_TLS_CA": str(junk)})


def test_missing_slack_tokens_named():
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN and SLACK_APP_TOKEN"):
        Settings.from_env({}).require_slack()


def test_swapped_slack_tokens_caught():
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xapp-1", "SLACK_APP_TOKEN": "xoxb-1"})
    with pytest.raises(ConfigError, match="xoxb-"):
        settings.require_slack()


def test_missing_router_credentials_named():
    with pytest.raises(ConfigError, match="MIKROTIK_PASSWORD"):
        Settings.from_env({"MIKROTIK_USER": "beholder"}).require_router_credentials()


def test_secrets_stay_out_of_repr():
    settings = Settings.from_env(
        {
            "MIKROTIK_PASSWORD": "hunter22",
            "SLACK_BOT_TOKEN": "xoxb-123-abc",
            "SLACK_APP_TOKEN": "xapp-1-A",
        }
    )
    assert "hunter22" not in repr(settings)
    assert "xoxb" not in repr(settings)


def test_formatter_redacts_tokens_passwords_and_tracebacks():
    formatter = logs.RedactingFormatter("%(message)s", secrets=["hunter22"])
    try:
        raise ValueError("login with hunter22 failed")
    except ValueError:
        record = logging.LogRecord(
            "x",
            logging.ERROR,
            "f",
            1,
            "token %s word %s",
            ("xoxb-1-2-abc", "'=password=hunter22'"),
            None,
        )
        import sys

        record.exc_info = sys.exc_info()
    text = formatter.format(record)
    assert "hunter22" not in text
    assert "xoxb-1-2-abc" not in text
    assert "=password=[redacted]" in text


def test_json_format_is_one_object_per_line_and_redacted():
    import json

    formatter = logs.JsonFormatter(secrets=["hunter22"])
    try:
        raise RuntimeError("boom hunter22")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "bot.x", logging.ERROR, "f", 1, "login %s", ("xapp-1-AAA",), sys.exc_info()
        )
    line = formatter.format(record)
    assert "\n" not in line
    event = json.loads(line)
    assert event["level"] == "ERROR"
    assert event["logger"] == "bot.x"
    assert event["msg"] == "login [redacted]"
    assert "hunter22" not in event["exc"]


def test_log_format_is_validated():
    with pytest.raises(ConfigError, match="BEHOLDER_LOG_FORMAT"):
        Settings.from_env({"BEHOLDER_LOG_FORMAT": "xml"})
