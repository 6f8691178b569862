"""``authgate keys rotate`` and ``keys list``: a key of each algorithm, both ids shown."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from authgate.cli.main import app

runner = CliRunner()


def _env(data_dir: Path) -> dict[str, str]:
    return {"AUTHGATE_DATA_DIR": str(data_dir), "AUTHGATE_LOG_FORMAT": "console"}


def _listed(output: str) -> dict[str, tuple[str, str]]:
    """kid -> (algorithm, state) from ``keys list``."""
    rows = re.findall(r"^(\S+)  (EdDSA|RS256)  (active|retired)  created ", output, re.MULTILINE)
    return {kid: (algorithm, state) for kid, algorithm, state in rows}


def test_rotate_adds_and_names_a_key_of_each_algorithm(tmp_path: Path) -> None:
    env = _env(tmp_path / "data")
    before = runner.invoke(app, ["keys", "list"], env=env)
    assert before.exit_code == 0, before.output
    first = _listed(before.output)
    # A new deployment starts with one active key of each algorithm.
    assert sorted(first.values()) == [("EdDSA", "active"), ("RS256", "active")]

    result = runner.invoke(app, ["keys", "rotate"], env=env)
    assert result.exit_code == 0, result.output
    new = dict(re.findall(r"New (EdDSA|RS256) signing key (\S+)", result.output))
    assert set(new) == {"EdDSA", "RS256"}
    assert "within 30 s" in result.output

    after = _listed(runner.invoke(app, ["keys", "list"], env=env).output)
    assert {after[new[alg]] for alg in new} == {("EdDSA", "active"), ("RS256", "active")}
    # The previous keys stay published, retired.
    assert {after[kid] for kid in first} == {("EdDSA", "retired"), ("RS256", "retired")}
    assert len(after) == 4
