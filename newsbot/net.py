"""Where a host name or address points."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str | None) -> bool:
    """Whether `host` is this machine only: `localhost` or a loopback address (127.0.0.0/8, ::1).
    Any other name is taken as reachable from the network."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
