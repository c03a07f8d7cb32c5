"""The inventory: the SQLite copy of which router holds which PPPoE secret.

    store     the database: connections, migrations, nodes, secrets, search, audit
    schema    the migrations, one per schema version
    audit     audit rows written after the reply, off the event loop
    imports   the nodes CSV and the management system's export
    keys      folding names, MACs and IPs into what searches compare

Imports `bot.model`, `bot.errors` and `bot.config`; nothing above.
"""
