"""The inventory: the SQLite copy of which router holds which PPPoE secret.

    store       the `Inventory`: its connections, transactions, faults and migrations
    nodes       the routers: how to reach them, their TLS mode and pinned certificate
    synced      what a sync wrote (secrets, sessions) and which router holds a user
    search      IP, MAC, fragments and typos: the trigram index and its ranking
    audit       the audit table, and its rows written after the reply, off the event loop
    management  the management system's export: customer and plan sold
    files       the database files are private (0600)
    schema      the migrations, one per schema version, and how moments are stored
    imports     the nodes CSV and the management system's export
    keys        folding names, MACs and IPs into what searches compare
    db          the store as its concept modules see it (a protocol: no cycle)

Imports `bot.model`, `bot.errors` and `bot.config`; nothing above.
"""
