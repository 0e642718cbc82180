"""Byte-level fuzzing of `vidsum summarize` (issue 8): seeded mutations of a small mp4 and mkv,
and of an mp4 with B-frames (decoded by the `pyav` decoder, `summarize`'s default for those).

Every mutant must end within a time bound with either exit 0 and a clip that plays and holds
exactly the selected frames, or one error line (never an internal error) and a non-zero exit,
leaving no output behind. FUZZ_CASES per container run with ``-m slow``; the first
FUZZ_SAMPLE of them always run. The tally is printed at the end (``-s`` shows it).
"""

from __future__ import annotations

import collections
import json
import random
from pathlib import Path

import pytest

from tests.badinput import good
from tests.test_badinput import assert_playable, error_lines, run_summarize
from tests.videogen import frame_count

FUZZ_CASES = 200  # mutants per container in the slow run
FUZZ_SAMPLE = 3  # of them in the default run
CONTAINERS = (".mp4", ".mkv", ".bframes.mp4")
TALLY: collections.Counter[str] = collections.Counter()


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("fuzz")
    bframes = {".bframes.mp4": {"extra": ["-preset", "veryfast", "-bf", "3"]}}
    out = {suffix: good(folder, f"seed{suffix}", durations=(1.0, 1.0), size=(64, 48), **bframes.get(suffix, {})).read_bytes()
           for suffix in CONTAINERS}
    yield out
    if TALLY:
        print("\nfuzz tally:", ", ".join(f"{k}: {v}" for k, v in sorted(TALLY.items())))


def mutate(data: bytes, seed: int) -> tuple[bytes, str]:
    """One seeded mutation: overwritten bytes, a truncation, an insertion, a deleted or a
    repeated chunk. Returns the mutant and a description."""
    rng = random.Random(seed)
    buf = bytearray(data)
    kind = rng.choice(["overwrite", "overwrite", "truncate", "insert", "delete", "repeat"])
    at = rng.randrange(len(buf))
    n = rng.choice([1, 4, 16, 256, 4096])
    if kind == "overwrite":
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(len(buf))
            buf[pos : pos + n] = bytes(rng.randrange(256) for _ in range(min(n, len(buf) - pos)))
    elif kind == "truncate":
        del buf[at:]
    elif kind == "insert":
        buf[at:at] = bytes(rng.randrange(256) for _ in range(n))
    elif kind == "delete":
        del buf[at : at + n]
    else:
        buf[at:at] = buf[at : at + n]
    return bytes(buf), f"{kind} {n} at {at}"


def _params(count: int) -> list:
    out = []
    for suffix in CONTAINERS:
        for seed in range(count):
            marks = [] if seed < FUZZ_SAMPLE else [pytest.mark.slow]
            out.append(pytest.param(suffix, seed, marks=marks, id=f"{suffix[1:].replace('.', '-')}-{seed}"))
    return out


@pytest.mark.parametrize("suffix,seed", _params(FUZZ_CASES))
def test_mutant(seeds: dict[str, bytes], tmp_path: Path, suffix: str, seed: int) -> None:
    data, what = mutate(seeds[suffix], seed)
    src = tmp_path / f"mutant{suffix}"
    src.write_bytes(data)
    outdir = tmp_path / "out"
    outdir.mkdir()
    code, text, _ = run_summarize(str(src), outdir / "s.mp4")
    assert "Traceback" not in text, (what, text)
    if code == 0:
        doc = json.loads((outdir / "s.json").read_text())
        assert frame_count(outdir / "s.mp4") == doc["summary"]["n_frames"] > 0, what
        assert_playable(outdir / "s.mp4")
        TALLY[f"{suffix[1:]} summarized"] += 1
    else:
        lines = error_lines(text)
        assert len(lines) == 1 and "internal error" not in lines[0], (what, text)
        assert src.name in lines[0], (what, lines[0])
        assert list(outdir.iterdir()) == [], what
        TALLY[f"{suffix[1:]} refused"] += 1
    assert src.read_bytes() == data
