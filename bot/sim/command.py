"""Splitting a received sentence into command, attributes, queries and tag."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Command:
    """One API command as the router understands it."""

    word: str  # e.g. "/ppp/active/print"
    attrs: dict[str, str] = field(default_factory=dict)  # from "=key=value"
    queries: list[str] = field(default_factory=list)  # "?..." words, "?" stripped, in order
    tag: str | None = None  # from ".tag=x"

    @property
    def path(self) -> str:
        """Menu of the command: "/ppp/active" for "/ppp/active/print"."""
        return self.word.rpartition("/")[0]

    @property
    def verb(self) -> str:
        """Last element of the command: "print" for "/ppp/active/print"."""
        return self.word.rpartition("/")[2]

    def flag(self, name: str) -> bool:
        """True for a present flag attribute ("=once=", "=once=yes", "=once=true").

        RouterOS takes a bare "=once=" as set; librouteros sends "=once=yes".
        """
        if name not in self.attrs:
            return False
        return self.attrs[name].lower() not in ("no", "false")


def parse_command(words: list[str]) -> Command:
    """Parse a non-empty sentence from a client.

    The API documents the tag as the word ".tag=x". librouteros can only send
    attributes, so its `api(cmd, **{".tag": "x"})` arrives as "=.tag=x"; both
    are accepted as the tag. Words of no known kind are ignored.
    """
    command = Command(word=words[0])
    for word in words[1:]:
        if word.startswith(".tag="):
            command.tag = word[len(".tag=") :]
        elif word.startswith("="):
            key, _, value = word[1:].partition("=")
            if key == ".tag":
                command.tag = value
            else:
                command.attrs[key] = value
        elif word.startswith("?"):
            command.queries.append(word[1:])
    return command
