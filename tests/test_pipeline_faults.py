"""Fault injection into the live pipeline: nothing stalls silently, nothing recorded is lost.

A source that raises, a player that raises mid-block, a store whose commits take 2 s, a flood
of player commands, and the consumer queue's bound (what is dropped when it is full).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from biofeedback.hrv.processor import HrvProcessor
from biofeedback.live.clock import SessionClock
from biofeedback.live.messages import Notice, SegmentStarted, SnapshotComputed
from biofeedback.live.pipeline import COMMAND_QUEUE_MAX, EventQueue, LivePipeline
from biofeedback.live.recorder import SessionMeta
from biofeedback.live.sources import SourceOptions, simulator_config
from biofeedback.playback.errors import PlaybackError
from biofeedback.playback.events import PlayerEvent, Started, Tingle
from biofeedback.sessions.protocol import PlannedSegment, ProtocolPlan
from biofeedback.sessions.store import SessionStore
from biofeedback.sessions.store_writer import SessionWriter
from devices.events import Beat, DeviceInfo, MeasurementReceived, SourceEvent
from devices.simulator import SimulatedSource, SimulatedStrap

META = SessionMeta(source="simulated", device={"name": "sim", "address": "", "kind": "simulated"})
RUN_TIMEOUT_S = 30.0


def simulated(duration_s: float, *, speed: float | None, seed: int = 1) -> SimulatedSource:
    opts = SourceOptions(simulate="sim", seed=seed, duration_s=duration_s, segments="baseline:600")
    return SimulatedSource(SimulatedStrap(simulator_config(opts)), speed=speed, clock_offset_s=0.0)


def pipeline(
    source: Any, db: Path, *, speed: float | None, clock: SessionClock | None = None, **kw: Any
) -> LivePipeline:
    return LivePipeline(
        source,
        clock=clock or SessionClock(speed=speed, origin_s=0.0),
        meta=META,
        store=SessionStore(db),
        processor=HrvProcessor(),
        **kw,
    )


async def consume(p: LivePipeline, seen: list[object]) -> None:
    async with aclosing(p.events()) as events:
        async for event in events:
            seen.append(event)


def run(p: LivePipeline, seen: list[object]) -> None:
    async def main() -> None:
        await asyncio.wait_for(consume(p, seen), RUN_TIMEOUT_S)

    asyncio.run(main())


def stored(db: Path) -> tuple[str, list[float], list[dict[str, Any]]]:
    with SessionStore(db) as store:
        (row,) = store.list_sessions()
        bundle = store.load_bundle(row.id)
    return row.status, list(bundle.beats["t_s"]), list(bundle.segments)


def beat_times(seen: list[object]) -> list[float]:
    return [e.t_s for e in seen if isinstance(e, Beat)]


# -- a source that raises ------------------------------------------------------------------
class RaisingSource:
    """The simulated strap, until it raises after ``after`` events."""

    def __init__(self, inner: SimulatedSource, after: int) -> None:
        self.inner = inner
        self.after = after

    @property
    def device(self) -> DeviceInfo:
        return self.inner.device

    async def events(self) -> AsyncGenerator[SourceEvent, None]:
        async with aclosing(self.inner.events()) as events:
            n = 0
            async for event in events:
                yield event
                n += 1
                if n == self.after:
                    raise OSError("the radio went away")


def test_a_source_that_raises_ends_the_session_interrupted_with_everything_kept(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.db"
    p = pipeline(RaisingSource(simulated(600.0, speed=None), after=120), db, speed=None)
    seen: list[object] = []
    with pytest.raises(OSError, match="the radio went away"):
        run(p, seen)
    status, beats, _ = stored(db)
    assert status == "interrupted"
    assert len(beats) > 50
    assert beats == beat_times(seen)  # every beat before the failure, stored and shown


# -- a player that raises mid-block ------------------------------------------------------
def media_plan() -> ProtocolPlan:
    segments = (
        PlannedSegment("settling", "settling", None, None, 2.0),
        PlannedSegment("tapping", "trigger", "tapping", "/media/a.wav", 6.0),
        PlannedSegment("washout", "washout", None, None, 2.0),
    )
    return ProtocolPlan(segments, (0,), "fixed", None, 0)


class FailingPlayer:
    """Starts the media it is asked to load, then its event stream raises ``error``."""

    def __init__(self, clock: SessionClock, error: BaseException, after_s: float = 1.0) -> None:
        self.clock = clock
        self.error = error
        self.after_s = after_s
        self.closed = False
        self._loaded: asyncio.Queue[str] = asyncio.Queue()

    async def start(self) -> None:
        return None

    async def load(self, media: str) -> None:
        self._loaded.put_nowait(media)

    async def pause(self) -> None:
        return None

    async def resume(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def close(self) -> None:
        self.closed = True

    def position_s(self) -> float | None:
        return None

    def mark_tingle(self) -> Tingle:
        return Tingle(self.clock.now(), None)

    async def events(self) -> AsyncIterator[PlayerEvent]:
        media = await self._loaded.get()
        yield Started(self.clock.now(), media)
        await asyncio.sleep(self.after_s / (self.clock.speed or 1.0))
        raise self.error


SPEED = 20.0


def test_a_player_that_raises_mid_block_ends_the_session_with_its_error(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    clock_speed = SPEED
    source = simulated(600.0, speed=clock_speed)
    clock = SessionClock(speed=clock_speed, origin_s=0.0)
    player = FailingPlayer(clock, RuntimeError("decoder bug"))
    p = pipeline(source, db, speed=clock_speed, clock=clock, plan=media_plan(), player=player)
    seen: list[object] = []
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="decoder bug"):
        run(p, seen)
    assert time.monotonic() - started < 10.0  # ended at once, not at the source's end
    status, beats, segments = stored(db)
    assert status == "interrupted"
    assert player.closed
    assert beats
    assert beats[: len(beat_times(seen))] == beat_times(seen)
    assert [(s["label"], bool(s["complete"])) for s in segments] == [
        ("settling", True),
        ("tapping", False),
    ]


def test_a_player_that_dies_mid_block_is_a_notice_and_the_protocol_goes_on(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.db"
    source = simulated(600.0, speed=SPEED)
    clock = SessionClock(speed=SPEED, origin_s=0.0)
    player = FailingPlayer(clock, PlaybackError("mpv exited"))
    p = pipeline(source, db, speed=SPEED, clock=clock, plan=media_plan(), player=player)
    seen: list[object] = []
    run(p, seen)
    assert any(isinstance(e, Notice) and "mpv exited" in e.message for e in seen)
    status, _, segments = stored(db)
    assert status == "complete"
    assert [(s["label"], bool(s["complete"])) for s in segments] == [
        ("settling", True),
        ("tapping", False),
        ("washout", True),
    ]


# -- player commands do not pile up ------------------------------------------------------
class SlowLoadPlayer(FailingPlayer):
    async def load(self, media: str) -> None:
        await asyncio.sleep(0.2)

    async def events(self) -> AsyncIterator[PlayerEvent]:
        await asyncio.Event().wait()
        yield Started(0.0, "")  # pragma: no cover - never reached


def test_skipping_blocks_fast_queues_commands_without_new_tasks(tmp_path: Path) -> None:
    plan = ProtocolPlan(
        tuple(PlannedSegment(f"b{i}", "trigger", "c", f"/m/{i}.wav", 60.0) for i in range(40)),
        tuple(range(40)),
        "fixed",
        None,
        0,
    )
    db = tmp_path / "s.db"
    clock = SessionClock(speed=5.0, origin_s=0.0)
    player = SlowLoadPlayer(clock, RuntimeError("unused"))
    p = pipeline(simulated(600.0, speed=5.0), db, speed=5.0, clock=clock, plan=plan, player=player)
    counts: list[int] = []

    async def main() -> None:
        async with aclosing(p.events()) as events:
            async for event in events:
                if isinstance(event, SegmentStarted | Beat):
                    break
            before = len(asyncio.all_tasks())
            for _ in range(30):
                await p.next_segment()
                counts.append(len(asyncio.all_tasks()) - before)
            assert p._commands.qsize() <= COMMAND_QUEUE_MAX

    asyncio.run(asyncio.wait_for(main(), RUN_TIMEOUT_S))
    assert max(counts) == 0
    assert stored(db)[0] == "stopped"


# -- a store whose commits take 2 s ------------------------------------------------------
class SlowWriter(SessionWriter):
    """Every commit of the buffers takes 2 s (a slow disk), on the writer's thread."""

    commits = 0

    def _write_batch(self, batch: Any) -> None:
        time.sleep(2.0)
        SlowWriter.commits += 1
        super()._write_batch(batch)


@pytest.mark.slow  # real time: commits that take 2 s each, while beats keep coming
def test_a_store_whose_commit_takes_2_s_never_stalls_the_screen(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    speed = 20.0
    p = pipeline(simulated(80.0, speed=speed), db, speed=speed, writer=SlowWriter)
    seen: list[object] = []
    arrivals: list[float] = []
    lags: list[float] = []

    async def watch_loop(stop: asyncio.Event) -> None:
        while not stop.is_set():
            t0 = time.monotonic()
            await asyncio.sleep(0.02)
            lags.append(time.monotonic() - t0 - 0.02)

    async def main() -> None:
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_loop(stop))
        async with aclosing(p.events()) as events:
            async for event in events:
                seen.append(event)
                if isinstance(event, Beat | SnapshotComputed | MeasurementReceived):
                    arrivals.append(time.monotonic())
        stop.set()
        await watcher

    SlowWriter.commits = 0
    asyncio.run(asyncio.wait_for(main(), RUN_TIMEOUT_S))
    assert SlowWriter.commits >= 2
    # 80 s at 20x: a packet every ~50 ms on the screen, never a 2-s hole; the loop stays free
    # while the last commit runs at the end too (the session's end waits for it, in a thread).
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert max(gaps) < 1.0, max(gaps)
    assert max(lags) < 0.5, max(lags)
    assert any(isinstance(e, SnapshotComputed) for e in seen)
    status, beats, _ = stored(db)
    assert status == "complete"
    assert beats == beat_times(seen)  # no beat lost


@pytest.mark.slow  # real time: a commit held for seconds while rows are added
def test_add_calls_do_not_wait_for_a_commit_in_progress(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.db")
    writer = SlowWriter(store, commit_interval_s=0.05)
    writer.begin(device=META.device, source="simulated")
    writer.add_beats([Beat(1.0, 800.0, 819, 0, 0)])
    deadline = time.monotonic() + 5.0
    while writer.pending_rows and writer._in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)  # until the thread has taken the first beat into its 2-s commit
    slowest = 0.0
    for i in range(1, 50):
        t0 = time.monotonic()
        writer.add_beats([Beat(1.0 + i, 800.0, 819, 0, 0)])
        writer.add_marker(1.0 + i, "tingle", "key")
        slowest = max(slowest, time.monotonic() - t0)
    assert slowest < 0.1, slowest
    writer.finish()
    bundle = store.load_bundle(writer.session_id)
    assert len(bundle.beats["t_s"]) == 50
    assert len(bundle.markers) == 49


# -- the consumer's queue ------------------------------------------------------------------
def beat(i: int) -> Beat:
    return Beat(float(i), 800.0, 819, 0, 0)


def test_a_full_queue_drops_the_oldest_snapshot_first_then_the_oldest_beat() -> None:
    q = EventQueue(4, paced=True)
    snap = SnapshotComputed(object())  # type: ignore[arg-type]
    notice = Notice(0.0, "kept")
    for item in (beat(0), snap, beat(1), notice, beat(2)):  # 4 display events: full
        assert not q.put(item)
    assert q.put(beat(3)) is True  # the snapshot goes first
    assert q.dropped_snapshots == 1
    assert q.put(beat(4)) is True  # then the oldest beat
    assert q.dropped_events == 1

    async def drain() -> list[object]:
        return [await q.get() for _ in range(len(q))]

    items = asyncio.run(drain())
    assert notice in items
    assert [b.t_s for b in items if isinstance(b, Beat)] == [1.0, 2.0, 3.0, 4.0]


def test_an_unpaced_producer_waits_for_room_instead_of_dropping() -> None:
    async def main() -> list[float]:
        q = EventQueue(3, paced=False)
        got: list[float] = []

        async def produce() -> None:
            for i in range(20):
                await q.room()
                q.put(MeasurementReceived(float(i), 0.0, b"\x00\x3c", None))  # type: ignore[arg-type]
                assert len(q) <= 3

        async def take() -> None:
            for _ in range(20):
                item = await q.get()
                assert isinstance(item, MeasurementReceived)
                got.append(item.t_s)
                await asyncio.sleep(0)

        await asyncio.gather(produce(), take())
        assert q.dropped_events == q.dropped_snapshots == 0
        return got

    assert asyncio.run(main()) == [float(i) for i in range(20)]
