"""The domain: what Beholder decides, independent of Slack or the terminal.

    readings       find the subscriber, take the snapshots, make the `Reading`
    assess         what a reading means: verdict, shares of the plan, warnings
    resolve        from the operator's text to a PPPoE user
    live           a live view and its figures (`LiveView`, `LiveStats`, `Now`)
    live_registry  which views run: one per subscriber, caps, shutdown
    live_service   an operator's request for a view → a started view or a refusal
    sync           copying the routers' secrets into the inventory
    background     serve's periodic re-sync and upkeep
    upkeep         audit retention, index repair

Stands on `bot.routeros` and `bot.inventory`; knows nothing of how a reply
is shown (`bot.present`) or delivered (`bot.slack`, `bot.cli`). It hands out
values and codes; words are the presentation's.
"""
