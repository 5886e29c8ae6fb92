"""Shared test fixtures: where the reference data lives.

A clone tests itself. Real recordings under a permissive licence (BSD, MIT, PhysioNet ODC-By) are
copied into ``tests/data/`` in the layout of ``../shared/reference/`` (sources and licences in
``tests/data/NOTICE.md``); ``reference_dir`` points there. Files that may not be copied (GPL, no
licence) are read from ``../shared/reference/`` only, through ``shared_reference_dir``: a test that
uses it is marked ``shared`` (``@pytest.mark.shared("elitehrv", why="GPL-3.0")`` names what it
reads, for the skip line) and skips with one line when ``../shared`` is not beside the checkout.
List them with ``pytest -m shared --co -q``.

The suite runs on pytest-xdist workers (``-n auto --dist loadgroup`` in pyproject.toml). Real time
that must stay real (mpv, dbus-daemon, signals, killed processes) is marked ``slow``; it runs
first, so that the workers fill the waiting with the quick tests. The tests that share a module-
scoped fixture run on one worker, so the fixture is computed once.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
from pathlib import Path

# One BLAS thread, as the program itself runs (biofeedback.cli.main): here before any test module
# imports numpy. With OpenBLAS's own thread per core in each of the xdist workers, its idle
# threads spin between calls: the suite took 21 % more CPU and 14 % more wall time.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest

# The cyclic garbage collector, tuned for a test run (the program keeps Python's defaults): a
# worker's heap grows to hundreds of thousands of objects (Textual apps, numpy, imported
# modules), and with the default thresholds (700, 10, 10) each full collection walks all of it.
# Measured on the Textual and artifact tests (115 tests, one process): 3 962 collections took
# 6.8 s of 50 s; with (20 000, 20, 20) 256 took 1.6 s. Garbage cycles are freed a little later.
gc.set_threshold(20_000, 20, 20)

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
REFERENCE = REPO.parent / "shared" / "reference"


def _missing_reason(what: str = "", why: str = "") -> str | None:
    """One line naming what is missing, or None when ``../shared/reference/<what>`` is there."""
    if (REFERENCE / what).exists():
        return None
    label = f"../shared/reference/{what}" if what else "../shared/reference"
    return f"needs {label} ({why + ', ' if why else ''}not in a clone)"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: a worker per core for the tests that compute, and one per slow lane.

    A sixth of the suite's tests are ``slow``: they wait (real mpv, real processes at a fixed
    simulated speed, dbus round trips) for about 160 s in all, using a tenth of a core. They
    run in :data:`SLOW_LANES` on workers of their own, beside one computing worker per core.
    """
    return (os.cpu_count() or 1) + len(SLOW_LANES)


def _module_fixture(item: pytest.Item) -> str | None:
    """The first module-scoped fixture ``item`` uses, if any."""
    info = getattr(item, "_fixtureinfo", None)
    for name in getattr(item, "fixturenames", ()):
        defs = info.name2fixturedefs.get(name, ()) if info is not None else ()
        if defs and defs[-1].scope == "module":
            return name
    return None


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Before pytest's last garbage collections (five full ones, looking for unraisable
    exceptions), freeze what is left: they then skip a worker's whole heap, which took each
    worker 2-3 s at the end of the run. Each test's own unraisable exceptions are reported at
    its teardown, as before."""
    gc.freeze()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark users of ``shared_reference_dir``; skip marked tests when ../shared is absent.

    Under xdist: the ``slow`` tests in lanes (:func:`_slow_lanes`), and the users of a
    module-scoped fixture grouped onto one worker.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        _slow_lanes(items)
        for item in items:
            fixture = _module_fixture(item)
            if fixture is not None and item.get_closest_marker("xdist_group") is None:
                item.add_marker(pytest.mark.xdist_group(f"{item.module.__name__}.{fixture}"))
    no_dbus = shutil.which("dbus-daemon") is None
    for item in items:
        if no_dbus and _uses_fake_bluez(item):
            item.add_marker(pytest.mark.skip(reason="dbus-daemon not installed (apt install dbus)"))
        uses_shared = "shared_reference_dir" in getattr(item, "fixturenames", ())
        if uses_shared and item.get_closest_marker("shared") is None:
            item.add_marker(pytest.mark.shared)
        marker = item.get_closest_marker("shared")
        if marker is not None:
            what = str(marker.args[0]) if marker.args else ""
            reason = _missing_reason(what, str(marker.kwargs.get("why", "")))
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


SLOW_LANES: tuple[str, ...] = ("realtime-dbus", "slow-lane-2", "slow-lane-3")
"""The lanes the ``slow`` tests run in, one worker each. The first is the group of the tests
that pace a fake strap on a real bus (one at a time, marked in their modules)."""
_SLOW_WALL_S: dict[str, float] = {
    "test_record_mpv": 21.0,  # a whole protocol while mpv plays
    "test_store_concurrency": 6.0,
    "test_terminal_hangup": 8.5,
    "test_session_status_replay": 6.0,
    "test_media_safety_mpv": 5.0,
    "test_playback_mpv": 1.7,
    "test_session_status_signals": 1.5,
    "test_pipeline_faults": 5.5,
}
"""Rough wall time per slow test of a module (seconds, measured; 3 s otherwise): only to balance
the lanes."""


def _slow_lanes(items: list[pytest.Item]) -> None:
    """Put the tests that mostly wait (``slow``, and the ``realtime-dbus`` group) into
    :data:`SLOW_LANES`, balanced by their rough wall time, a module's tests in one lane.

    Waiting tests use a tenth of a core. Run first on every worker (as before), they left both
    cores mostly idle for the first half minute; in lanes, a few workers wait while one per core
    computes. xdist's ``loadgroup`` sends the big groups first, so the lanes start at once.
    """
    lane_of_module: dict[str, int] = {}
    load = [0.0] * len(SLOW_LANES)
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        group = item.get_closest_marker("xdist_group")
        if group is not None and group.args and group.args[0] == SLOW_LANES[0]:
            lane_of_module[item.module.__name__] = 0
            load[0] += 3.0
        elif item.get_closest_marker("slow") is not None:
            modules.setdefault(item.module.__name__, []).append(item)
    weights = {
        name: len(tests) * _SLOW_WALL_S.get(name.rsplit(".", 1)[-1], 3.0)
        for name, tests in modules.items()
    }
    for name in sorted(weights, key=lambda n: -weights[n]):  # longest first, to the lighter lane
        lane = lane_of_module.get(name, min(range(len(load)), key=load.__getitem__))
        load[lane] += weights[name]
        for item in modules[name]:
            if item.get_closest_marker("xdist_group") is None:
                item.add_marker(pytest.mark.xdist_group(SLOW_LANES[lane]))


_FAKE_BLUEZ_USERS: dict[str, bool] = {}
_FAKE_BLUEZ_IMPORT = re.compile(
    r"^\s*(from|import)\s+(devices\.fake_bluez|tests\.ble_fixtures|ble_fixtures)\b", re.M
)


def _uses_fake_bluez(item: pytest.Item) -> bool:
    """Does the test's module run the fake BlueZ (a private dbus-daemon)?"""
    path = str(getattr(item, "path", ""))
    if path not in _FAKE_BLUEZ_USERS:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError:
            text = ""
        _FAKE_BLUEZ_USERS[path] = bool(_FAKE_BLUEZ_IMPORT.search(text))
    return _FAKE_BLUEZ_USERS[path]


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
