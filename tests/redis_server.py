"""A throwaway Redis (Debian's redis-server) for tests of what several replicas share."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.cli.processes import free_port

__all__ = ["redis_server"]


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """Starts a Redis that keeps nothing on disk and yields its URL; stops it afterwards."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("no redis-server: `make test` installs Debian's redis-server package")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while (
            subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip()
            != "PONG"
        ):
            if time.monotonic() > deadline:
                pytest.fail("redis-server did not start")
            time.sleep(0.2)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
