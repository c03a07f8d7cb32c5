"""The HTTP routes other than Slack's: ADR-005's ``GET /live/{pppoe_user}``, ``/healthz``
and ``/openapi.json``, served on the one HTTP listener (`bot.serve`).

* `bot.api.policy`: who may call what (deny by default), the bearer tokens.
* `bot.api.shapes`: the JSON bodies, rendered from a reading's assessment and
  from the errors: they decide nothing.
* `bot.api.health`: what ``/healthz`` checks (event loop, inventory, Slack).
* `bot.api.routes`: the route table and the aiohttp handlers, bounded (path
  length, no body on GET, 405 for other methods, CORS only for named origins).
* ``openapi.json``: the OpenAPI 3.1 document, shipped as package data; the tests
  validate real responses against it.
"""
