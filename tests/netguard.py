"""Refuse (and record) every network connection that does not go to this machine.

`install(log)` patches socket.connect / connect_ex / getaddrinfo: a connection to a loopback address
is allowed (the app's own server, the test client), anything else raises OSError and is appended
to `log` (a list, or a file path, one line per attempt). Used in-process by the security tests, and
in a launched app through `python -c "import netguard; netguard.run_app(...)"`.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import traceback

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_local(host) -> bool:
    if host is None:
        return True
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost would need DNS, i.e. the network


def install(log) -> None:
    def record(what: str) -> None:
        line = f"{what} from {traceback.extract_stack(limit=6)[0].filename}"
        if isinstance(log, list):
            log.append(line)
        else:
            with open(log, "a") as fh:
                fh.write(line + "\n")

    real_connect, real_connect_ex, real_getaddrinfo = socket.socket.connect, socket.socket.connect_ex, \
        socket.getaddrinfo

    def target(address):
        return address[0] if isinstance(address, tuple) else None  # AF_UNIX paths are local

    def connect(self, address):
        if not _is_local(target(address)):
            record(f"connect {address!r}")
            raise OSError(f"network disabled by the test: {address!r}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if not _is_local(target(address)):
            record(f"connect_ex {address!r}")
            return 111  # ECONNREFUSED
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local(host):
            record(f"getaddrinfo {host!r}")
            raise socket.gaierror(f"network disabled by the test: {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo


def run_app(log_path: str, argv: list[str]) -> None:
    """Start app.py with the guard installed first (so even import-time calls are caught)."""
    install(log_path)
    sys.argv = ["app.py", *argv]
    import app

    app.main(argv)
