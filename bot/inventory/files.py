"""The inventory's files are private: created 0600, and a wider one is reported.

They hold subscribers' names, addresses, IPs and MACs and who asked about them.
SQLite would create the file 0644 (whatever Beholder's umask allows) and give
its ``-wal`` and ``-shm`` companions the same mode, so the file is created here
first, before SQLite opens it; an older file readable by others is left as it
is (it may be shared on purpose) but gets a WARNING saying how to fix it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

#: What the inventory's files are created with: only Beholder's user reads them.
FILE_MODE = 0o600


def create_private(path: Path) -> None:
    """Create the inventory file 0600 whatever the umask (SQLite would create it
    0644 and its -wal and -shm like it); warn about an older, wider one.

    A symbolic link is followed, as SQLite follows it: a link to a file not yet
    there (``O_EXCL`` refuses any link) would otherwise be left for SQLite to
    create 0644, with no warning.
    """
    path = Path(os.path.realpath(path))
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        _warn_if_shared(path)
        return
    except OSError:
        return  # a missing folder, no permission: SQLite's own error says which
    try:
        os.fchmod(fd, FILE_MODE)  # the umask may have taken bits away
    finally:
        os.close(fd)


def private_companions(path: Path) -> None:
    """SQLite gives -wal and -shm the main file's mode: make sure they are 0600 too
    when the main file is (an old, shared one is only warned about). SQLite puts
    them next to the file a symbolic link points to."""
    path = Path(os.path.realpath(path))
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            return
    except OSError:
        return
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        try:
            if stat.S_IMODE(companion.stat().st_mode) != FILE_MODE:
                companion.chmod(FILE_MODE)
        except OSError:
            pass  # not created (yet), or not ours to change


def shared_mode(path: Path) -> int | None:
    """`path`'s permission bits when users other than its owner may read or write
    it; None when only its owner may, or when it cannot be looked at."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None


def _warn_if_shared(path: Path) -> None:
    mode = shared_mode(path)
    if mode is not None:
        log.warning(
            "the inventory %s can be read by other users (mode %04o): it holds subscribers' "
            "names, addresses, IPs and MACs and the audit; run: chmod 600 %s %s-wal %s-shm",
            path,
            mode,
            path,
            path,
            path,
        )
