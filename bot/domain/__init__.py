"""The domain: what Beholder decides, independent of Slack or the terminal.

    readings    find the subscriber, take the snapshots, make the `Reading`
    resolve     from the operator's text to a PPPoE user
    live        live views: one sample a second, caps, who is watching what
    sync        copying the routers' secrets into the inventory
    background  serve's periodic re-sync and upkeep
    upkeep      audit retention

Stands on `bot.routeros.client` and `bot.inventory.store`; knows nothing of how a reply
is shown (`bot.present`) or delivered (`bot.slack`, `bot.cli.main`).
"""
