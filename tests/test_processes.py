"""The check ``bot run`` makes before starting anything: every port it needs is free."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from bot.cli.processes import Process, ProcessError, check_ports, free_port, processes
from bot.settings import load_settings


def _planned(tmp_path: Path, console_port: int) -> list[Process]:
    settings = load_settings(
        {
            "BOT_DEMO": "1",
            "BOT_VAR_DIR": str(tmp_path),
            "BOT_HOST": "127.0.0.1",
            "RASA_PORT": str(free_port()),
            "ACTION_PORT": str(free_port()),
            "CONSOLE_PORT": str(console_port),
        }
    )
    return processes(settings, tmp_path / "logs")


def test_free_ports_pass(tmp_path: Path) -> None:
    check_ports(_planned(tmp_path, free_port()))


def test_a_taken_port_is_named_with_its_holder(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        with pytest.raises(ProcessError) as refused:
            check_ports(_planned(tmp_path, port))
    assert f"port {port} (console) is in use by pid {os.getpid()} (" in str(refused.value)


def test_a_listener_on_all_interfaces_takes_the_port_too(tmp_path: Path) -> None:
    with socket.create_server(("0.0.0.0", 0)) as holder:
        port = holder.getsockname()[1]
        with pytest.raises(ProcessError, match=f"port {port} "):
            check_ports(_planned(tmp_path, port))
