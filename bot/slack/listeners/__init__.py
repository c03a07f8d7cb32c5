"""One module per kind of Slack request, each with its ``register(app, deps)``.

    commands    ``/consumo``
    events      mentions of the bot
    actions     the buttons of a reply (refresh, pick a candidate)
    shortcuts   the "Ver consumo" message shortcut
    live        ``/consumo USER 30s`` and the "En vivo" button: live views in Slack

Listeners stay thin: read the payload, ask the domain (through
`bot.slack.replies.consult` or `bot.domain.live_service`), render with
`bot.slack.blocks`, send with `bot.slack.delivery`. Who may ask is decided
before any of them runs (`bot.slack.access`).
"""
