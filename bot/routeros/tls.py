"""Router TLS: how each node's API is reached, and how a router proves who it is.

A node's ``tls`` mode (the ``nodes`` table, the nodes CSV, ``nodes add --tls``):

* ``no``: the plain API (port 8728). Nothing is encrypted.
* ``yes``: API-SSL (port 8729), and the router is authenticated **before** the
  ``/login`` sentence (which carries the password in clear inside the channel on
  RouterOS >= 6.43) is written:

  - a node with a pinned SHA-256 fingerprint (``beholder nodes trust``) is
    verified by that pin **alone**: the certificate must be exactly the pinned
    one, whoever signed it, so a renewed certificate is refused until it is
    trusted again (``nodes trust --replace``). The CA is not consulted.
  - a node without a pin must present a certificate that chains to
    ``MIKROTIK_TLS_CA`` (the system store when unset) **and** names the node's
    host: an IP SAN when the router is addressed by IP (Python's ssl matches IP
    addresses against IP SANs only), a DNS name otherwise. Without the name
    check any certificate of the ISP's CA would pass for every router, so whoever
    holds one router's key could impersonate all the others.

  Anonymous DH is never offered in this mode: Python's default client ciphers
  exclude aNULL suites, and a router without a certificate fails the handshake.
* ``insecure``: API-SSL with no verification at all, anonymous DH included: it
  stops a passive listener, not an impostor at the node's address, who gets the
  password. An explicit opt-in for routers that cannot have a certificate;
  ``serve`` and ``nodes check`` name such nodes in a WARNING.

Fingerprints are kept as 64 lowercase hex digits and shown as colon-separated
upper-case pairs, as ``openssl x509 -fingerprint -sha256`` prints them.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.model import Node, TlsMode


def fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate, as stored: 64 lowercase hex digits."""
    return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class CertificateInfo:
    """What ``beholder nodes trust`` shows before pinning a certificate."""

    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    fingerprint: str  # stored form (64 lowercase hex digits)

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer


def describe(der: bytes) -> CertificateInfo:
    """Subject, issuer, validity and fingerprint of a DER certificate.

    ValueError if the bytes are not an X.509 certificate (the TLS library already
    bounds the certificate's size during the handshake).
    """
    from cryptography import x509  # only `nodes trust` reads certificates

    cert = x509.load_der_x509_certificate(der)
    return CertificateInfo(
        subject=cert.subject.rfc4514_string() or "(empty)",
        issuer=cert.issuer.rfc4514_string() or "(empty)",
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        fingerprint=fingerprint(der),
    )


# -- client contexts --------------------------------------------------------------


def verified_context(ca_file: Path | None) -> ssl.SSLContext:
    """``yes`` without a pin: the chain must reach `ca_file` (the system store
    when None) and the certificate must name the host connected to
    (``check_hostname``: the caller passes ``server_hostname=node.host``)."""
    ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def pinned_context() -> ssl.SSLContext:
    """``yes`` with a pin, and ``nodes trust``: no chain verification (the pin is
    compared after the handshake, before anything is written), but a certificate
    is still required: Python's default ciphers exclude anonymous suites."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def insecure_context() -> ssl.SSLContext:
    """``insecure``: anything goes, including the anonymous DH a RouterOS without
    a certificate offers (only at OpenSSL security level 0)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("ADH:DEFAULT:@SECLEVEL=0")
    return ctx


def insecure_nodes(nodes: Iterable[Node]) -> list[str]:
    """Names of the nodes whose router is not authenticated (``tls=insecure``)."""
    return sorted(n.name for n in nodes if n.tls is TlsMode.INSECURE)


def insecure_warning(names: list[str]) -> str:
    """The WARNING ``serve`` and ``nodes check`` give for `insecure_nodes`."""
    return (
        f"API-SSL without certificate verification (tls=insecure) on {', '.join(names)}: "
        "anyone answering at their address gets the router password; give them a "
        "certificate and run beholder nodes trust NODE, or use a CA (MIKROTIK_TLS_CA)"
    )
