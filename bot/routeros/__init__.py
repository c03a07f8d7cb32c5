"""Talking to the routers: the RouterOS API client and what it stands on.

    client      one short API session per question: deadline, coalescing, the
                operations (`RouterClient`)
    slots       our own queue to each router: session caps, one left for a reading
    connection  opening a session (TCP/TLS, pin, login), raw values, error mapping
    pull        the sync pull's bounded, streamed read of whole tables
    parse       pure parsing of rates, plans, uptimes, dates and rows
    transport   librouteros's protocol, reading the socket in large chunks
    sentences   sentences cut out of the bytes, each reply within its `ReplyLimit`
    tls         how a router proves who it is (API-SSL contexts, pins)
    breaker     stop asking a router that keeps failing

Imports `bot.model`, `bot.errors` and `bot.config`; nothing above.
"""
