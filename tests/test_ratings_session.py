"""Self-report ratings reach the store: headless re-asks bad answers, the dashboard keeps the
session open until the last dialog is answered, and markers sit at the end of their block."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from biofeedback.live.headless_session import run_headless
from biofeedback.live.pipeline import LivePipeline
from biofeedback.live.session_builder import SessionOptions, build_session
from biofeedback.live.sources import SourceOptions
from biofeedback.sessions.store import SessionStore
from biofeedback.tui.app import make_app
from biofeedback.tui.screens.rating import RatingScreen

PROTOCOL = """
name = "rated"
settling_s = 10
baseline_s = 20
washout_s = 10
order = "fixed"
self_report = true

[[block]]
label = "tapping"
duration_s = 20

[[block]]
label = "whispering"
duration_s = 20
"""


def _pipeline(tmp_path: Path) -> tuple[LivePipeline, Path]:
    protocol = tmp_path / "rated.toml"
    protocol.write_text(PROTOCOL)
    db = tmp_path / "s.db"
    opts = SessionOptions(
        source=SourceOptions(simulate="sim", seed=4),
        protocol=str(protocol),
        player="none",
        db=db,
        fast=True,
    )
    return build_session(opts), db


def _stored(db: Path) -> tuple[str, list[dict[str, Any]], dict[str, float]]:
    with SessionStore(db) as store:
        (row,) = store.list_sessions()
        bundle = store.load_bundle(row.id)
    ends = {s["label"]: s["end_s"] for s in bundle.segments}
    ratings = [m for m in bundle.markers if m["kind"] == "rating"]
    return row.status, ratings, ends


def _answers(*lines: str | None) -> tuple[Any, list[str]]:
    script: Iterator[str | None] = iter(lines)
    prompts: list[str] = []

    async def ask(prompt: str) -> str | None:
        prompts.append(prompt)
        return next(script)

    return ask, prompts


def test_headless_asks_again_on_a_bad_answer_and_stamps_the_block_end(tmp_path: Path) -> None:
    pipeline, db = _pipeline(tmp_path)
    ask, prompts = _answers("11", "abc", "7", " 3 ", "", None)
    out = io.StringIO()
    summary = asyncio.run(run_headless(pipeline, out, duration_s=None, as_json=False, ask=ask))
    assert summary["status"] == "complete"
    text = out.getvalue()
    assert '"11" is not a whole number from 0 to 10' in text
    assert '"abc" is not a whole number from 0 to 10' in text
    assert "self-report for whispering skipped" in text
    assert [p.split(":")[1].split()[0] for p in prompts] == [
        "relaxation",
        "relaxation",
        "relaxation",
        "tingles",
        "relaxation",
    ]
    status, ratings, ends = _stored(db)
    assert status == "complete"
    assert [(m["label"], m["value"]) for m in ratings] == [
        ("tapping", {"relaxation": 7, "tingles": 3})
    ]
    assert ratings[0]["t_s"] == ends["tapping"]


def test_headless_end_of_input_skips_the_rating(tmp_path: Path) -> None:
    pipeline, db = _pipeline(tmp_path)
    ask, _ = _answers("12", None, None)
    asyncio.run(run_headless(pipeline, io.StringIO(), duration_s=None, as_json=True, ask=ask))
    status, ratings, _ = _stored(db)
    assert status == "complete"
    assert ratings == []


async def _until(condition: Any, pilot: Any, timeout_s: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        assert loop.time() < deadline, "timed out"
        await pilot.pause(0.02)


async def test_the_dashboard_keeps_the_session_open_for_the_last_rating(tmp_path: Path) -> None:
    pipeline, db = _pipeline(tmp_path)
    app = make_app(pipeline)
    async with app.run_test(size=(120, 40)) as pilot:
        # The fast simulation runs the whole protocol at once: both dialogs open, the last on
        # top, and the protocol is over.
        await _until(
            lambda: (
                isinstance(app.screen, RatingScreen)
                and getattr(app.screen, "label", None) == "whispering"
                and len(pipeline.pending_ratings) == 2
            ),
            pilot,
        )
        await _until(lambda: pipeline.runner is not None and pipeline.runner.finished, pilot)
        assert pipeline.recording, "the session must stay open while a rating is asked"
        assert isinstance(app.screen, RatingScreen)
        assert app.screen.label == "whispering"
        await pilot.press("8", "enter", "2", "enter")
        await _until(lambda: len(pipeline.pending_ratings) == 1, pilot)
        assert pipeline.recording
        assert isinstance(app.screen, RatingScreen)
        assert app.screen.label == "tapping"
        await pilot.press("escape")  # skipped: the last one settled, the session closes
        await _until(lambda: not pipeline.recording and pipeline.last_summary, pilot)
        assert pipeline.last_summary["status"] == "complete"
    status, ratings, ends = _stored(db)
    assert status == "complete"
    assert [(m["label"], m["value"]) for m in ratings] == [
        ("whispering", {"relaxation": 8, "tingles": 2})
    ]
    assert ratings[0]["t_s"] == ends["whispering"]
