"""Who may ask, as a pure rule: `decide` on the configured lists (`Policy`).

Configured with ``BEHOLDER_ALLOWED_CHANNELS``, ``BEHOLDER_ALLOWED_USERS`` and
``BEHOLDER_ALLOWED_USERGROUPS`` (`bot.config.Settings`). All empty: everyone in
the workspace may ask. Otherwise a request is allowed when its channel is
allowed (if channels are configured) AND its user is listed or belongs to an
allowed user group (if users or groups are configured); a group that could not
be resolved (`Members.failed`) lets none of its members in.

No Slack and no I/O here, so the rule is tested on its own; the groups'
members come from `bot.slack.groups`, and `bot.slack.access` applies the
decision to every request.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings


@dataclass(frozen=True)
class Policy:
    """The configured lists. Empty lists mean "no restriction of that kind"."""

    channels: frozenset[str] = frozenset()
    users: frozenset[str] = frozenset()
    usergroups: tuple[str, ...] = ()  # ids ("S…") or handles ("@soporte-n2")

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            frozenset(settings.allowed_channels),
            frozenset(settings.allowed_users),
            tuple(settings.allowed_usergroups),
        )

    @property
    def open(self) -> bool:
        """Nothing configured: everyone in the workspace, in every channel."""
        return not (self.channels or self.users or self.usergroups)

    def needs_groups(self, user: str | None, channel: str) -> bool:
        """Only group membership can still decide: worth asking Slack for members."""
        return (
            bool(self.usergroups)
            and (not self.channels or channel in self.channels)
            and (user is None or user not in self.users)
        )


@dataclass(frozen=True)
class Members:
    """What the allowed user groups resolved to."""

    users: frozenset[str] = frozenset()
    #: Groups that could not be resolved (Slack error, missing scope, timeout).
    failed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    #: Allowed: "open", "channel" (only channels configured), "user", "group".
    #: Denied: "channel", "user", "unverified" (group membership could not be checked),
    #: "kind" (a kind of request no rule covers: refused whatever the lists say).
    reason: str


def decide(
    policy: Policy, user: str | None, channel: str, members: Members | None = None
) -> Decision:
    """The rule. `members`: the allowed groups' members, when they were looked up."""
    if policy.open:
        return Decision(True, "open")
    if policy.channels and channel not in policy.channels:
        return Decision(False, "channel")
    if not (policy.users or policy.usergroups):
        return Decision(True, "channel")
    if user is not None and user in policy.users:
        return Decision(True, "user")
    if members is not None and user is not None and user in members.users:
        return Decision(True, "group")
    if members is not None and members.failed:
        return Decision(False, "unverified")
    return Decision(False, "user")
