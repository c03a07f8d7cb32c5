"""Router TLS that authenticates: real TLS over loopback TCP against the simulator,
whose routers record whether ``/login`` (and so the password) ever arrived.

Routers: one with a self-signed certificate, one with anonymous DH only (no
certificate), and two whose certificates an ISP CA issued, for this address and
for another one.
"""

from __future__ import annotations

import asyncio
import logging
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import RouterCertificateError, RouterTLSError
from bot.model import Node, Secret, TlsMode, parse_fingerprint, shown_fingerprint
from bot.present import errors as error_texts
from bot.routeros.client import RouterClient
from bot.routeros.tls import describe
from bot.sim.model import RouterConfig, Subscriber
from bot.sim.network import SimNetwork
from bot.sim.tls import CertificateAuthority, SimCertificate, self_signed
from tests.conftest import API_PASSWORD, API_USER

USER = "cifrado"


@dataclass
class TlsWorld:
    network: SimNetwork
    ca_file: Path
    certs: dict[str, SimCertificate]

    def node(self, name: str, tls: str = "yes", pin: str | None = None) -> Node:
        return Node(name, "127.0.0.1", self.network.port(name), tls, pin)

    def logins(self, name: str) -> int:
        return self.network.counters(name).logins

    def client(self, ca: bool = False) -> RouterClient:
        return RouterClient(
            username=API_USER,
            password=API_PASSWORD,
            timeout=2.0,
            tls_ca_file=self.ca_file if ca else None,
        )


def _router(name: str, certificate: SimCertificate | None) -> RouterConfig:
    return RouterConfig(
        name,
        username=API_USER,
        password=API_PASSWORD,
        tls=True,
        certificate=certificate,
        subscribers=[
            Subscriber(
                USER, "pw", online=True, plan=(1_000_000, 5_000_000), fixed_traffic=(1, 900_000)
            )
        ],
    )


@pytest.fixture
def tls_world(tmp_path) -> Iterator[TlsWorld]:
    ca = CertificateAuthority()
    ca_file = tmp_path / "isp-ca.pem"
    ca_file.write_bytes(ca.cert_pem)
    certs = {
        "bras-propio": self_signed("bras-propio"),
        "bras-ca": ca.issue("bras-ca", "127.0.0.1"),
        # Another router's genuine certificate from the same CA.
        "bras-ajeno": ca.issue("bras-otro", "127.0.0.2"),
    }
    configs = [_router(name, cert) for name, cert in certs.items()]
    configs.append(_router("bras-anonimo", None))
    with SimNetwork(configs) as network:
        yield TlsWorld(network, ca_file, certs)


def snapshot(client: RouterClient, node: Node):
    return asyncio.run(client.snapshot(node, USER))


def test_self_signed_certificate_is_refused_before_login(tls_world):
    """``tls=yes`` without a pin or CA: a self-signed certificate fails verification
    (system store), the reply says so in Spanish, and no /login reached the router."""
    with pytest.raises(RouterCertificateError) as caught:
        snapshot(tls_world.client(), tls_world.node("bras-propio"))
    assert not caught.value.changed
    assert tls_world.logins("bras-propio") == 0
    message = error_texts.error(caught.value)
    assert message.startswith("Certificado no verificado en *bras-propio*")
    assert "beholder nodes trust bras-propio" in message


def test_anonymous_dh_router_is_refused_when_verifying(tls_world):
    """A router without a certificate (anonymous DH only) is refused by ``tls=yes``,
    pinned or not: the client offers no anonymous suite, and no /login is sent."""
    pin = tls_world.certs["bras-propio"].sha256
    for node in (tls_world.node("bras-anonimo"), tls_world.node("bras-anonimo", pin=pin)):
        with pytest.raises(RouterTLSError):
            snapshot(tls_world.client(), node)
    assert tls_world.logins("bras-anonimo") == 0
    # The explicit opt-in reaches it (and so gives it the password).
    assert snapshot(tls_world.client(), tls_world.node("bras-anonimo", "insecure")).online
    assert tls_world.logins("bras-anonimo") == 1


def test_pinned_certificate_is_used_then_a_changed_one_is_refused(tls_world, caplog):
    """A pinned node is read; once its certificate changes (renewal or impostor) it
    is refused before /login, naming the node and both fingerprints."""
    old = tls_world.certs["bras-propio"]
    node = tls_world.node("bras-propio", pin=old.sha256)
    client = tls_world.client()
    assert snapshot(client, node).traffic.download_bps == 900_000
    assert tls_world.logins("bras-propio") == 1

    new = self_signed("bras-propio")
    tls_world.network.set_certificate("bras-propio", new)
    with (
        caplog.at_level(logging.WARNING, logger="bot.routeros.connection"),
        pytest.raises(RouterCertificateError) as caught,
    ):
        snapshot(client, node)
    err = caught.value
    assert (err.node, err.pinned, err.presented) == ("bras-propio", old.sha256, new.sha256)
    assert tls_world.logins("bras-propio") == 1  # no new /login
    message = error_texts.error(err)
    assert "*bras-propio*" in message
    assert shown_fingerprint(old.sha256) in message
    assert shown_fingerprint(new.sha256) in message
    assert "beholder nodes trust bras-propio --replace" in message
    assert shown_fingerprint(new.sha256) in caplog.text
    assert API_PASSWORD not in message + caplog.text


def test_ca_certificate_must_name_the_node_address(tls_world):
    """With MIKROTIK_TLS_CA, a certificate of that CA for this address is accepted,
    but the same CA's certificate for another router (127.0.0.2) is refused before
    /login: the CA alone no longer vouches for every router."""
    client = tls_world.client(ca=True)
    assert snapshot(client, tls_world.node("bras-ca")).online
    with pytest.raises(RouterCertificateError, match=r"127\.0\.0\.1"):
        snapshot(client, tls_world.node("bras-ajeno"))
    assert tls_world.logins("bras-ajeno") == 0
    # Without the CA, even the right certificate is not trusted.
    with pytest.raises(RouterCertificateError):
        snapshot(tls_world.client(), tls_world.node("bras-ca"))


def test_a_pin_alone_decides_even_when_the_ca_would_accept(tls_world):
    """A pinned node must present exactly the pinned certificate: a CA-valid one
    for its address is refused too (the pin is not an alternative to the CA)."""
    other = tls_world.certs["bras-propio"].sha256
    with pytest.raises(RouterCertificateError) as caught:
        snapshot(tls_world.client(ca=True), tls_world.node("bras-ca", pin=other))
    assert caught.value.presented == tls_world.certs["bras-ca"].sha256
    assert tls_world.logins("bras-ca") == 0


def test_peer_certificate_reads_the_certificate_without_logging_in(tls_world):
    """What ``nodes trust`` pins is the router's certificate, fetched by a bare
    handshake; a router without a certificate has nothing to pin."""
    client = tls_world.client()
    der = asyncio.run(client.peer_certificate(tls_world.node("bras-propio")))
    assert der == tls_world.certs["bras-propio"].der
    with pytest.raises(RouterTLSError):
        asyncio.run(client.peer_certificate(tls_world.node("bras-anonimo")))
    assert tls_world.logins("bras-propio") == tls_world.logins("bras-anonimo") == 0


# -- through the running bot ----------------------------------------------------------


def test_serve_warns_of_insecure_nodes_and_refuses_an_impostor_in_spanish(
    fake, start_serve, sim_world, tls_world, caplog
):
    """`serve` names every ``tls=insecure`` node in a WARNING at start; a /consumo
    for a subscriber on a pinned node now presenting another certificate gets the
    Spanish "certificado no verificado" reply, and that router never saw /login."""
    caplog.set_level(logging.INFO)
    impostor = self_signed("bras-propio")
    tls_world.network.set_certificate("bras-propio", impostor)
    pinned = tls_world.certs["bras-propio"].sha256
    inventory = sim_world.inventory
    inventory.upsert_nodes(
        [tls_world.node("bras-anonimo", "insecure"), tls_world.node("bras-propio", pin=pinned)]
    )
    inventory.replace_node("bras-propio", [Secret(USER, "bras-propio")], [], datetime.now(UTC))
    start_serve()
    [warning] = [
        r
        for r in caplog.records
        if r.name == "bot.serve.socket_mode" and r.levelno >= logging.WARNING
    ]
    assert "tls=insecure) on bras-anonimo:" in warning.getMessage()

    [post] = fake.wait_for_responses(key=fake.send_slash_command(USER), timeout=5)
    text = post.body["text"]
    assert text.startswith("Certificado no verificado en *bras-propio*"), text
    assert f"`{USER}`" in text
    assert shown_fingerprint(pinned) in text
    assert shown_fingerprint(impostor.sha256) in text
    assert API_PASSWORD not in text
    assert tls_world.logins("bras-propio") == 0


# -- parsing what admins type ----------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fingerprint_parser_takes_64_hex_digits_or_says_no(text):
    try:
        value = parse_fingerprint(text)
    except ValueError:
        return
    assert len(value) == 64
    assert set(value) <= set(string.hexdigits.lower())


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.sampled_from([":", "", " "]), st.booleans())
def test_fingerprint_round_trips_through_the_forms_people_paste(digest, sep, upper):
    value = digest.hex()
    pasted = sep.join(value[i : i + 2] for i in range(0, 64, 2))
    assert parse_fingerprint(pasted.upper() if upper else pasted) == value
    assert parse_fingerprint(shown_fingerprint(value)) == value


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=50))
def test_tls_mode_parser_knows_three_modes_and_the_old_flags(text):
    word = text.strip().lower()
    if word in {"", "0", "1", "false", "true", "no", "yes", "si", "sí", "insecure"}:
        assert TlsMode.parse(text) in set(TlsMode)
    else:
        with pytest.raises(ValueError, match="no, yes or insecure"):
            TlsMode.parse(text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_describe_takes_any_bytes_a_router_sends_without_crashing(der):
    """`nodes trust` shows whatever certificate the router sent: anything that is
    not a certificate is a ValueError (reported), never another exception."""
    try:
        info = describe(der)
    except ValueError:
        return
    assert len(info.fingerprint) == 64


def test_describe_reads_subject_issuer_and_validity():
    ca = CertificateAuthority("ISP CA")
    info = describe(ca.issue("bras-ca").der)
    assert (info.subject, info.issuer, info.self_signed) == ("CN=bras-ca", "CN=ISP CA", False)
    assert info.not_before < datetime.now(UTC) < info.not_after
    assert describe(self_signed("bras-x").der).self_signed


def test_old_true_false_keep_meaning_yes_and_no():
    assert [TlsMode.parse(w) for w in ("true", "TRUE", "1", "false", "", "0")] == [
        TlsMode.YES,
        TlsMode.YES,
        TlsMode.YES,
        TlsMode.NO,
        TlsMode.NO,
        TlsMode.NO,
    ]
    assert Node("n", "h", tls=True).tls is TlsMode.YES
    assert Node("n", "h", tls=False).tls is TlsMode.NO
    assert Node("n", "h", tls=" Insecure ").tls is TlsMode.INSECURE
