"""Slack identifiers used across listeners, in one place."""

COMMAND = "/consumo"
ACTION_REFRESH = "consumo_refresh"
BLOCK_ACTIONS = "consumo_actions"
ACTION_PICK = "consumo_pick"
ACTION_LIVE = "consumo_live"
ACTION_LIVE_STOP = "consumo_live_stop"
BLOCK_LIVE = "consumo_live_actions"
