"""Collection summaries (`vidsum.collection`): output names that cannot collide and stay stable."""

from __future__ import annotations

import hashlib
from pathlib import Path

from vidsum.collection import assign_names


def _h(p: Path) -> str:
    return hashlib.sha1(str(p.resolve()).encode()).hexdigest()[:8]


def test_names_unique_stable_and_case_insensitive(tmp_path: Path) -> None:
    a1, a2, b, c_upper, c_lower = (
        tmp_path / "x" / "a.mp4", tmp_path / "y" / "a.mkv", tmp_path / "b.mp4", tmp_path / "C.mp4", tmp_path / "z" / "c.webm",
    )
    names = assign_names([a1, a2, b, c_upper, c_lower])
    assert names[str(b.resolve())] == "b"
    # same stems (also differing only in case, which macOS/Windows file systems merge) get hashes
    assert names[str(a1.resolve())] == f"a-{_h(a1)}" and names[str(a2.resolve())] == f"a-{_h(a2)}"
    assert names[str(c_upper.resolve())] == f"C-{_h(c_upper)}" and names[str(c_lower.resolve())] == f"c-{_h(c_lower)}"
    assert len({n.casefold() for n in names.values()}) == 5
    # a later run keeps the names an earlier run gave, and a newcomer cannot take one of them
    later = assign_names([b, tmp_path / "w" / "b.mp4"], known={str(b.resolve()): "b"})
    assert later[str(b.resolve())] == "b"
    assert later[str((tmp_path / "w" / "b.mp4").resolve())] == f"b-{_h(tmp_path / 'w' / 'b.mp4')}"
