"""Slack identifiers used across listeners, in one place."""

COMMAND = "/consumo"
ACTION_REFRESH = "consumo_refresh"
BLOCK_ACTIONS = "consumo_actions"
ACTION_PICK = "consumo_pick"
