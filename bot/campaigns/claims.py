"""Who may send a campaign: one claim holder at a time, named by host, process and a token.

The claim itself is one UPDATE in bot/store/campaigns.py; here is how a claim is named and how a
sender can tell that the holder of a claim on this host has died (a killed send).
"""
from __future__ import annotations

import os
import socket
import uuid


def new_owner() -> str:
    """Who holds a claim: host, process and a token unique to this send."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def owner_is_dead(owner: str | None) -> bool:
    """True when the claim's process ran on this host and no longer exists (a killed send)."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_s = rest.partition(":")[0]
    if host != socket.gethostname()[:40] or not pid_s.isdigit():
        return False
    pid = int(pid_s)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
