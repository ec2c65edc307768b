"""Shared fixtures: the repository's corpus and the crate's own CLI, which
gives Rust's verdicts to compare with."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def corpus() -> list[str]:
    """Every committed document: the fuzz corpus, the differential regressions
    and the examples (one document per line)."""
    docs = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "fuzz/corpus/parse_validate").iterdir())]
    for name in ["crates/coownership-testkit/fixtures/differential_regressions.jsonl", "examples/documents.jsonl"]:
        docs += [line for line in (ROOT / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(docs) > 20, "the corpus is where the tests expect it"
    return docs


@pytest.fixture(scope="session")
def cli() -> pathlib.Path:
    """The `coownership` binary (COOWNERSHIP_CLI, or built here with cargo)."""
    if os.environ.get("COOWNERSHIP_CLI"):
        return pathlib.Path(os.environ["COOWNERSHIP_CLI"])
    subprocess.run(
        ["cargo", "build", "--quiet", "--features", "cli", "--bin", "coownership"],
        cwd=ROOT,
        check=True,
    )
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
    )
    return pathlib.Path(meta["target_directory"]) / "debug" / "coownership"
