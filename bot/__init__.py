"""Beholder: live PPPoE traffic from MikroTik routers, answered in Slack on demand."""

__version__ = "0.1.0"
