"""`vidsum --help` and every subcommand's --help must be fast: no torch / cv2 / h5py import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

COMMANDS = [
    [],
    ["summarize"],
    ["train"],
    ["eval"],
    ["features"],
    ["experiment"],
    ["dataset"],
    ["dataset", "build"],
    ["weights"],
]

PROBE = """
import json, sys
from typer.testing import CliRunner
from vidsum.cli import app
res = CliRunner().invoke(app, sys.argv[1:] + ["--help"])
heavy = sorted(m for m in ("torch", "cv2", "h5py", "scipy", "matplotlib") if m in sys.modules)
print(json.dumps({"code": res.exit_code, "heavy": heavy, "out": res.output}))
"""


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a) or "vidsum")
def test_help_is_light_and_explains(argv: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, result["out"]
    assert result["heavy"] == [], f"--help imported {result['heavy']}"
    assert "Usage" in result["out"]


def test_version_flag() -> None:
    from typer.testing import CliRunner

    from vidsum import __version__
    from vidsum.cli import app

    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0
    assert __version__ in res.output
