"""Shared test fixtures: where the reference data lives.

A clone tests itself. Real recordings under a permissive licence (BSD, MIT, PhysioNet ODC-By) are
copied into ``tests/data/`` in the layout of ``../shared/reference/`` (sources and licences in
``tests/data/NOTICE.md``); ``reference_dir`` points there. Files that may not be copied (GPL, no
licence) are read from ``../shared/reference/`` only, through ``shared_reference_dir``: a test that
uses it is marked ``shared`` (``@pytest.mark.shared("elitehrv", why="GPL-3.0")`` names what it
reads, for the skip line) and skips with one line when ``../shared`` is not beside the checkout.
List them with ``pytest -m shared --co -q``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
REFERENCE = REPO.parent / "shared" / "reference"


def _missing_reason(what: str = "", why: str = "") -> str | None:
    """One line naming what is missing, or None when ``../shared/reference/<what>`` is there."""
    if (REFERENCE / what).exists():
        return None
    label = f"../shared/reference/{what}" if what else "../shared/reference"
    return f"needs {label} ({why + ', ' if why else ''}not in a clone)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark users of ``shared_reference_dir``; skip marked tests when ../shared is absent."""
    for item in items:
        uses_shared = "shared_reference_dir" in getattr(item, "fixturenames", ())
        if uses_shared and item.get_closest_marker("shared") is None:
            item.add_marker(pytest.mark.shared)
        marker = item.get_closest_marker("shared")
        if marker is not None:
            what = str(marker.args[0]) if marker.args else ""
            reason = _missing_reason(what, str(marker.kwargs.get("why", "")))
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``tests/data/``: the permissively licensed reference files, always in the checkout."""
    if not DATA.is_dir():
        pytest.fail(f"tests/data missing: {DATA}")
    return DATA


@pytest.fixture(scope="session")
def shared_reference_dir() -> Path:
    """``../shared/reference/``: GPL or unlicensed files that may not be copied into the project."""
    reason = _missing_reason()
    if reason is not None:
        pytest.skip(reason)
    return REFERENCE
