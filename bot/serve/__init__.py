"""Running the bot: Socket Mode and the HTTP listener for Slack's events.

socket_mode  the app wired to its services, over Socket Mode
http         the same app behind an HTTP listener (signature-checked)
"""
