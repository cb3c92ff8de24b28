"""The production files in deploy/ agree with the code: units run `bot serve` on the port their
instance names, and HAProxy's drop-in sets every address deploy/haproxy.cfg reads."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cli.serve import KINDS
from bot.settings import ROOT

SYSTEMD = ROOT / "deploy" / "systemd"
# Which setting a unit's instance (%i) is, by the process it serves.
PORT_OF = {"rasa": "RASA_PORT", "actions": "ACTION_PORT", "console": "CONSOLE_PORT"}


def unit(path: Path) -> configparser.ConfigParser:
    parsed = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parsed.optionxform = str  # type: ignore[assignment,method-assign]
    parsed.read(path)
    return parsed


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_process_has_a_unit_that_serves_it(kind):
    service = unit(SYSTEMD / f"bot-{kind}@.service")["Service"]
    assert service["ExecStart"] == f"/opt/bot/.venv/bin/bot serve {kind}"
    assert service["EnvironmentFile"] == "/etc/bot/bot.env"
    assert service["Restart"] == "always"
    if kind in PORT_OF:
        assert service["Environment"] == f"{PORT_OF[kind]}=%i"


def test_haproxy_s_drop_in_sets_every_address_the_configuration_reads():
    read = set(re.findall(r"\$\{(LB_[A-Z0-9_]+)\}", (ROOT / "deploy" / "haproxy.cfg").read_text()))
    drop_in = (SYSTEMD / "haproxy.service.d" / "bot.conf").read_text()
    assert read and read == set(re.findall(r"\b(LB_[A-Z0-9_]+)=", drop_in))


def test_the_example_environment_names_only_settings_there_are():
    from bot.settings import Settings

    variables = {field.validation_alias for field in Settings.model_fields.values()}
    named = {line.split("=", 1)[0] for line in (SYSTEMD / "bot.env.example").read_text().splitlines() if "=" in line}
    named = {name for name in named if not name.startswith("#")}
    assert named and named <= variables


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_reads_the_units(tmp_path):
    for path in SYSTEMD.glob("*.service"):
        # Pointed at this checkout, so the commands it checks exist.
        (tmp_path / path.name).write_text(path.read_text().replace("/opt/bot", str(ROOT)))
    shutil.copy(SYSTEMD / "bot.target", tmp_path)
    checked = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(map(str, tmp_path.glob("*.service")))],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0 and str(tmp_path) not in checked.stderr, checked.stderr
