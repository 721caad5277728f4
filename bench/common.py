"""Helpers the benchmarks share: servers in subprocesses, memory of a process, sign-in.

Benchmarks are scripts, not tests: `.venv/bin/python bench/<name>.py` prints figures.
The portal runs under gunicorn (one sync worker, as in production but single) in its
own process, so its memory is measured apart from the client's.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
BENCH_PASSWORD = "bench-pass-2026!"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


@contextmanager
def workdir(name: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"portal-bench-{name}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def portal_env(settings: dict[str, Any]) -> dict[str, str]:
    """Environment for a portal process: PORTAL_<name> for every setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({f"PORTAL_{k}": str(v) for k, v in settings.items()})
    return env


def base_settings(database_url: str, tmp: Path, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "DATABASE_URL": database_url, "SECRET_KEY": "bench-secret-key",
        "STORAGE": "local", "STORAGE_LOCAL_ROOT": str(tmp / "uploads"), "SMTP_HOST": "",
        "LOGIN_LIMIT": "10000 per minute", "BASE_URL": "http://127.0.0.1",
        "IDLE_TIMEOUT_MINUTES": 600,
    }
    values.update(extra)
    return values


def make_app(settings: dict[str, Any]):  # noqa: ANN201
    """The portal in this process (for data set-up), configured like the server."""
    from portal import create_app

    return create_app(dict(settings))


# -- processes ---------------------------------------------------------------------------

class Server:
    """A process serving HTTP on a port; stopped on exit."""

    def __init__(self, args: list[str], port: int, env: dict[str, str] | None = None,
                 log: Path | None = None) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log = open(log or os.devnull, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_port(port)
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def gunicorn(settings: dict[str, Any], log: Path | None = None) -> Server:
    """The portal (bench/bench_server.py) under gunicorn with one sync worker."""
    port = free_port()
    args = [str(VENV_BIN / "gunicorn"), "-w", "1", "-k", "sync", "--timeout", "900",
            "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT / "bench"), "bench_server:app"]
    return Server(args, port, env=portal_env(settings), log=log)


def moto_server() -> Server:
    port = free_port()
    return Server([str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], port)


def worker_pid(master: int, seconds: float = 10) -> int:
    """The pid of gunicorn's (only) worker, a child of the master."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak since start or the last reset) in kB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def reset_peak(pid: int) -> None:
    """Start VmHWM again from the current RSS (Linux: write 5 to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


# -- HTTP ---------------------------------------------------------------------------------

_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
_CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')


def sign_in(base_url: str, email: str, password: str = BENCH_PASSWORD) -> requests.Session:
    """A session signed in through the real form, with the CSRF header set for POSTs."""
    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=30).text
    token = _CSRF_INPUT.search(page).group(1)
    response = session.post(f"{base_url}/login", timeout=30, allow_redirects=False, data={
        "email": email, "password": password, "csrf_token": token})
    if response.status_code not in (302, 303):
        raise RuntimeError(f"sign-in failed: {response.status_code}")
    page = session.get(f"{base_url}/", timeout=30).text
    match = _CSRF_HEADER.search(page)
    if match:
        session.headers["X-CSRFToken"] = match.group(1)
    return session


def password_hash() -> str:
    from portal.auth.passwords import hash_password

    return hash_password(BENCH_PASSWORD)


# -- figures -----------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary_ms(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"n={len(ms)} median {statistics.median(ms):.1f} ms, p95 {percentile(ms, 95):.1f} ms,"
            f" max {max(ms):.1f} ms")


def stream_size(stream: Any) -> int:
    """Bytes left in a seekable stream."""
    here = stream.tell()
    end = stream.seek(0, os.SEEK_END)
    stream.seek(here)
    return end - here


def mb(n_bytes: float) -> float:
    return n_bytes / (1024 * 1024)
