"""Talking to the routers: the RouterOS API client and what it stands on.

    client      one short API session per question: deadline, session caps,
                coalescing, error mapping (`RouterClient`)
    parse       pure parsing of rates, plans, uptimes, dates and rows
    transport   librouteros with a buffered, bounded reader (`ReplyLimit`)
    tls         how a router proves who it is (API-SSL contexts, pins)
    breaker     stop asking a router that keeps failing

Imports `bot.model`, `bot.errors` and `bot.config`; nothing above.
"""
