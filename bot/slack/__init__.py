"""Slack: the Bolt app, who may ask, and how a question becomes a reply in a channel.

    app           wires everything (`build_app`); creates nothing at import time
    access        deny by default: every request kind passes one policy first
    policy        the pure decision (channels, users, user groups)
    groups        user groups' members, cached (an injected clock)
    installation  drop requests from another workspace or app
    listeners/    one module per kind of request (commands, events, actions, …)
    replies       one question → one reply and its audit row (`consult`, `Deps`)
    blocks        pure Block Kit from what the domain decided
    delivery      sending: response_url, then the Web API; retries and fallbacks
    parsing       the operator's text, cut to a bound before any parsing
    ids           action, command and callback ids, in one place

Imports run one way (a layers contract in pyproject.toml): app > access |
listeners > replies | groups | installation > blocks | delivery | policy |
parsing > ids.
"""
