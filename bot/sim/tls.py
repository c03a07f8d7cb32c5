"""API-SSL the way a RouterOS without a certificate serves it: anonymous DH.

With no certificate assigned to the api-ssl service, RouterOS offers only ADH
cipher suites. Modern OpenSSL refuses those unless the security level is 0,
which is exactly what the bot must configure; the simulator reproduces it so
that configuration is tested, not assumed.
"""

from __future__ import annotations

import os
import ssl
import tempfile

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


def server_context() -> ssl.SSLContext:
    """Server context: ADH suites only, TLS 1.2 at most (TLS 1.3 has no anonymous suites)."""
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
