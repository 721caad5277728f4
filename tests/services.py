"""Bring up the machine's PostgreSQL and Redis when they do not answer (never skip)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait(host: str, port: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answers(host, port):
            return True
        time.sleep(0.3)
    return False


def ensure_postgres() -> None:
    if answers("127.0.0.1", 5432):
        return
    versions = os.listdir("/etc/postgresql") if os.path.isdir("/etc/postgresql") else []
    if not versions:
        raise RuntimeError("PostgreSQL is not installed and does not answer on 5432")
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", sorted(versions)[-1], "main", "start"],
        check=False,
    )
    if not _wait("127.0.0.1", 5432):
        raise RuntimeError("PostgreSQL did not start on 127.0.0.1:5432")


def ensure_redis() -> None:
    if answers("127.0.0.1", 6379):
        return
    if not shutil.which("redis-server"):
        raise RuntimeError("redis-server is not installed and nothing answers on 6379")
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--port", "6379", "--save", "",
         "--appendonly", "no"],
        check=False,
    )
    if not _wait("127.0.0.1", 6379):
        raise RuntimeError("Redis did not start on 127.0.0.1:6379")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
