"""Uploaded files waiting between an import's preview and its confirmation: on disk, in a
private folder (settings.IMPORT_PENDING_DIR), under random names, never in the session. A
file is removed when its import is confirmed or cancelled, when the same session uploads
another one, and otherwise within a day (files older than that go when a new one arrives).
"""

import os
import secrets
import time
from pathlib import Path

from django.conf import settings

LIFETIME = 24 * 3600  # seconds


def _folder():
    folder = Path(settings.IMPORT_PENDING_DIR)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def park(content):
    """Keep `content` until it is taken; returns the key to take it with."""
    folder = _folder()
    _sweep(folder)
    key = secrets.token_hex(16)
    descriptor = os.open(folder / key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    return key


def take(key):
    """The content parked under `key`, removed from disk; None when it is gone."""
    path = _path(key)
    try:
        content = path.read_bytes() if path is not None else None
    except FileNotFoundError:
        return None
    discard(key)
    return content


def discard(key):
    path = _path(key)
    if path is not None:
        path.unlink(missing_ok=True)


def _path(key):
    # Keys come from the session, which only park() fills; still, never a path from outside.
    if not isinstance(key, str) or len(key) != 32 or not all(c in "0123456789abcdef" for c in key):
        return None
    return Path(settings.IMPORT_PENDING_DIR) / key


def _sweep(folder):
    expired = time.time() - LIFETIME
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < expired:
                path.unlink()
        except FileNotFoundError:
            pass  # taken meanwhile
