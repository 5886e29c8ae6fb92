"""The dashboard paints before the live pipeline is built (``biofeedback.live.deferred``).

``monitor`` and ``demo`` check the input and open the store first, then build the source and the
HRV maths in a worker thread behind the first frame. These tests hold the build on an event and
look at the screen meanwhile; a bad protocol is still a one-line error before any screen.
"""

from __future__ import annotations

import threading
from pathlib import Path

from biofeedback.live.deferred import DeferredPipeline
from biofeedback.live.messages import PipelineEvent
from biofeedback.tui.app import make_app
from biofeedback.tui.screens.monitor import MonitorScreen
from devices.events import Beat
from tests.cli_support import run_cli
from tests.test_tui_support import FakePipeline


class HeldBuild:
    """A build that waits for ``release`` and says which thread it ran in."""

    def __init__(self, pipeline: FakePipeline | None = None, error: Exception | None = None):
        self.release = threading.Event()
        self.pipeline = pipeline
        self.error = error
        self.threads: list[threading.Thread] = []

    def __call__(self) -> FakePipeline:
        self.threads.append(threading.current_thread())
        assert self.release.wait(10), "the test never released the build"
        if self.error is not None:
            raise self.error
        assert self.pipeline is not None
        return self.pipeline


def beats(n: int) -> list[PipelineEvent]:
    return [Beat(0.8 * (i + 1), 800.0, 0, 0, i) for i in range(n)]


async def test_the_first_frame_is_painted_while_the_pipeline_is_still_building() -> None:
    fake = FakePipeline(beats(5))
    build = HeldBuild(fake)
    deferred = DeferredPipeline(build)
    app = make_app(deferred)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        assert isinstance(app.screen, MonitorScreen)
        assert "protocol" in app.export_screenshot()
        assert deferred.built is None
        assert app.model.beat_t_s == type(app.model.beat_t_s)()  # nothing yet: still building
        # A tingle pressed during the build waits for the pipeline (the press returns once it
        # has been handled, so the build is released from another thread meanwhile).
        threading.Timer(0.2, build.release.set).start()
        await pilot.press("t")
        for _ in range(100):
            if len(app.model.beat_t_s) == 5 and "mark_tingle" in fake.calls:
                break
            await pilot.pause(0.02)
        assert len(app.model.beat_t_s) == 5
        assert fake.calls == ["mark_tingle"]
    assert deferred.built is fake
    assert len(build.threads) == 1
    assert build.threads[0] is not threading.main_thread()


async def test_a_build_that_fails_is_shown_and_the_dashboard_stays() -> None:
    build = HeldBuild(error=RuntimeError("strap adapter vanished"))
    deferred = DeferredPipeline(build)
    app = make_app(deferred)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        build.release.set()
        for _ in range(100):
            messages = [n.message for n in app._notifications]
            if messages:
                break
            await pilot.pause(0.02)
        assert "The live pipeline stopped: strap adapter vanished" in messages
        assert app.is_running
    assert deferred.built is None
    assert deferred.summaries == []
    assert deferred.last_summary == {}


async def test_stopping_before_anything_was_built_builds_nothing() -> None:
    build = HeldBuild(FakePipeline())
    deferred = DeferredPipeline(build)
    await deferred.stop_recording("interrupted")
    assert build.threads == []


def test_a_bad_protocol_is_one_line_before_any_screen(tmp_path: Path) -> None:
    ran = run_cli(
        "monitor", "--simulate", "--protocol", str(tmp_path / "nope.toml"),
        "--db", str(tmp_path / "s.db"),
    )  # fmt: skip
    assert ran.returncode == 2
    (line,) = ran.stderr.strip().splitlines()
    assert "nope.toml" in line
    assert ran.stdout == ""
