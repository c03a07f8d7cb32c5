"""API-SSL as a RouterOS serves it: anonymous DH, or a certificate.

With no certificate assigned to the api-ssl service, RouterOS offers only ADH
cipher suites. Modern OpenSSL refuses those unless the security level is 0,
which only the bot's explicit ``insecure`` mode configures; the simulator
reproduces it so that refusal is tested, not assumed.

With a certificate (``/ip service set api-ssl certificate=…``) the router serves
ordinary suites with it. `self_signed` makes the kind a router generates for
itself; `CertificateAuthority` the kind an ISP's own CA issues. Both are made at
test time, in memory (EC P-256 keys: milliseconds), never fetched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# RFC 7919 ffdhe2048 group (the same output as
# `openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048`).
# Embedded because generating DH parameters at runtime takes seconds.
FFDHE2048_PEM = """\
-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
"""

ADH_CIPHERS = "ADH:@SECLEVEL=0"


@dataclass(frozen=True)
class SimCertificate:
    """A router's certificate and private key (PEM)."""

    cert_pem: bytes
    key_pem: bytes

    @property
    def der(self) -> bytes:
        return x509.load_pem_x509_certificate(self.cert_pem).public_bytes(
            serialization.Encoding.DER
        )

    @property
    def sha256(self) -> str:
        """The fingerprint Beholder pins: 64 lowercase hex digits."""
        return hashlib.sha256(self.der).hexdigest()


class CertificateAuthority:
    """An ISP's own CA, issuing router certificates for given addresses."""

    def __init__(self, name: str = "Beholder test CA") -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (
            _builder(self._name, self._name, self._key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )

    @property
    def cert_pem(self) -> bytes:
        """For ``MIKROTIK_TLS_CA``."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, common_name: str, address: str = "127.0.0.1") -> SimCertificate:
        """A router certificate naming `address` (an IP SAN, as routers are addressed)."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        cert = (
            _leaf(_builder(subject, self._name, key.public_key()), address)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        return _pem(cert, key)


def self_signed(common_name: str, address: str = "127.0.0.1") -> SimCertificate:
    """A certificate the router signed itself (``/certificate add … ; sign``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = _leaf(_builder(name, name, key.public_key()), address).sign(key, hashes.SHA256())
    return _pem(cert, key)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _leaf(builder: x509.CertificateBuilder, address: str) -> x509.CertificateBuilder:
    return builder.add_extension(
        x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]),
        critical=False,
    ).add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)


def _pem(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> SimCertificate:
    return SimCertificate(
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def server_context(certificate: SimCertificate | None = None) -> ssl.SSLContext:
    """Server context: with `certificate`, ordinary suites serving it; without,
    ADH suites only, TLS 1.2 at most (TLS 1.3 has no anonymous suites)."""
    if certificate is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # load_cert_chain only takes paths.
        with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as handle:
            handle.write(certificate.key_pem + certificate.cert_pem)
            path = handle.name
        try:
            ctx.load_cert_chain(path)
        finally:
            os.unlink(path)
        return ctx
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(ADH_CIPHERS)
    # load_dh_params only takes a path.
    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as handle:
        handle.write(FFDHE2048_PEM)
        path = handle.name
    try:
        ctx.load_dh_params(path)
    finally:
        os.unlink(path)
    return ctx


def client_context() -> ssl.SSLContext:
    """The client context a certificate-less router requires (for tests and demos).

    No certificate exists, so there is nothing to verify: this is encryption
    without authentication, the same trade-off the real router imposes.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers(ADH_CIPHERS)
    return ctx
