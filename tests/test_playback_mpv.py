"""MpvPlayer against a real mpv process (null audio and video outputs), audio made with wave."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import stat
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from biofeedback.playback import (
    Crashed,
    Ended,
    MpvPlayer,
    Paused,
    PlaybackError,
    PlayerCrashedError,
    PlayerEvent,
    PlayerMissingError,
    PlayerStartError,
    Resumed,
    Seeked,
    Started,
    Tingle,
    played_completely,
    played_duration_s,
    played_intervals,
)
from tests.media_support import write_sine

# The whole file needs the player; CI installs the Debian package mpv.
pytestmark = [
    pytest.mark.skipif(shutil.which("mpv") is None, reason="mpv is not installed"),
    pytest.mark.slow,  # real mpv playing media in real time
]

TOLERANCE_S = 0.1
MPV_STEP_S = 0.25


def proc_file(pid: int, name: str) -> bytes:
    return (Path("/proc") / str(pid) / name).read_bytes()


class Recorder:
    """Collects events from the callback and waits for one of a type."""

    def __init__(self) -> None:
        self.events: list[PlayerEvent] = []

    async def wait_for(self, kind: type, timeout_s: float = 15.0) -> PlayerEvent:
        async with asyncio.timeout(timeout_s):
            while True:
                for event in self.events:
                    if isinstance(event, kind):
                        return event
                await asyncio.sleep(0.02)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def player(recorder: Recorder) -> AsyncIterator[MpvPlayer]:
    async with MpvPlayer(
        silent=True, extra_args=("--no-config",), on_event=recorder.events.append
    ) as mpv:
        yield mpv


@pytest.fixture(scope="module")
def sine_6s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sine(tmp_path_factory.mktemp("media") / "sine_6s.wav", 6.0)


async def play_to_end(player: MpvPlayer, recorder: Recorder) -> float:
    """Poll mpv until the media ends; return how far mpv's clock lagged the played time.

    On a loaded machine the null audio output underruns and mpv's clock falls behind the
    wall clock: the media then really plays longer, by the lag mpv itself reports. Along the
    way, our extrapolated position must agree with mpv's reported one.
    """
    lag_s = 0.0
    ahead_s: list[float] = []
    behind_s: list[float] = []
    while not any(isinstance(event, Ended) for event in recorder.events):
        with contextlib.suppress(PlaybackError):  # the file may end between two questions
            before_s = player.position_s()
            mpv_position_s = await player.get_property("playback-time")
            after_s = player.position_s()
            if isinstance(mpv_position_s, float) and before_s is not None and after_s is not None:
                # mpv answered somewhere between our two readings.
                ahead_s.append(before_s - mpv_position_s)
                behind_s.append(mpv_position_s - after_s)
                played_s = played_duration_s(recorder.events, until_s=time.monotonic())
                lag_s = max(0.0, played_s - mpv_position_s)
        await asyncio.sleep(0.2)
    assert len(ahead_s) >= 5
    # mpv's answer is never ahead of our position; it may trail it, because mpv's
    # playback-time advances in steps (about 0.25 s with the null output) between changes.
    assert max(behind_s) <= TOLERANCE_S
    assert statistics.median(ahead_s) <= MPV_STEP_S
    return lag_s


async def test_plays_to_the_end_and_events_match_mpv(
    player: MpvPlayer, recorder: Recorder, sine_6s: Path
) -> None:
    await player.load(str(sine_6s))
    started = await recorder.wait_for(Started)
    await asyncio.sleep(0.2)
    duration_s = player.duration_s()
    lag_s = await play_to_end(player, recorder)
    ended = await recorder.wait_for(Ended)

    assert recorder.events == [Started(started.t_s, str(sine_6s)), Ended(ended.t_s, "eof")]
    assert duration_s == pytest.approx(6.0)
    played_s = played_duration_s(recorder.events)
    assert 6.0 - TOLERANCE_S <= played_s <= 6.0 + lag_s + TOLERANCE_S
    assert played_completely(recorder.events)
    assert player.position_s() is None


async def test_pause_is_excluded_from_the_played_time(
    player: MpvPlayer, recorder: Recorder, tmp_path: Path
) -> None:
    media = write_sine(tmp_path / "sine_4s.wav", 4.0)
    await player.load(str(media))
    await recorder.wait_for(Started)
    await asyncio.sleep(1.0)
    await player.pause()
    paused = await recorder.wait_for(Paused)
    await asyncio.sleep(2.0)
    await player.resume()
    resumed = await recorder.wait_for(Resumed)
    lag_s = await play_to_end(player, recorder)

    started, _, _, ended = recorder.events
    assert [type(event) for event in recorder.events] == [Started, Paused, Resumed, Ended]
    assert isinstance(paused, Paused)
    assert isinstance(resumed, Resumed)
    assert isinstance(ended, Ended)
    assert ended.reason == "eof"
    assert paused.position_s == pytest.approx(paused.t_s - started.t_s, abs=TOLERANCE_S)
    assert resumed.position_s == pytest.approx(paused.position_s, abs=0.01)
    pause_s = resumed.t_s - paused.t_s
    assert pause_s >= 2.0
    assert played_intervals(recorder.events) == [
        (started.t_s, paused.t_s),
        (resumed.t_s, ended.t_s),
    ]
    played_s = played_duration_s(recorder.events)
    assert 4.0 - TOLERANCE_S <= played_s <= 4.0 + lag_s + TOLERANCE_S
    assert ended.t_s - started.t_s == pytest.approx(played_s + pause_s)


async def test_seek_is_a_marker_and_stop_ends_the_block(
    player: MpvPlayer, recorder: Recorder, sine_6s: Path
) -> None:
    await player.load(str(sine_6s))
    started = await recorder.wait_for(Started)
    await asyncio.sleep(0.5)
    await player.seek(4.0)
    seeked = await recorder.wait_for(Seeked)
    position_s = player.position_s()
    tingle = player.mark_tingle()
    await player.stop()
    ended = await recorder.wait_for(Ended)

    assert isinstance(seeked, Seeked)
    assert seeked.from_s == pytest.approx(seeked.t_s - started.t_s, abs=TOLERANCE_S)
    assert seeked.to_s == pytest.approx(4.0, abs=0.05)
    assert position_s is not None
    assert position_s >= 4.0
    assert tingle.position_s is not None
    assert tingle.position_s >= position_s
    assert ended == Ended(ended.t_s, "stopped")
    assert [type(event) for event in recorder.events] == [Started, Seeked, Tingle, Ended]
    assert len(played_intervals(recorder.events)) == 1


async def test_a_missing_file_ends_with_an_error(
    player: MpvPlayer, recorder: Recorder, tmp_path: Path
) -> None:
    await player.load(str(tmp_path / "absent.wav"))
    ended = await recorder.wait_for(Ended)

    assert isinstance(ended, Ended)
    assert ended.reason == "error"
    assert ended.detail
    assert not played_completely(recorder.events)


async def test_killed_mpv_is_reported_as_a_crash_and_the_iterator_ends(sine_6s: Path) -> None:
    mpv = MpvPlayer(silent=True, extra_args=("--no-config",))
    await mpv.start()
    await mpv.load(str(sine_6s))
    seen: list[PlayerEvent] = []
    async with asyncio.timeout(10.0):
        async for event in mpv.events():
            seen.append(event)
            if isinstance(event, Started):
                assert mpv.pid is not None
                os.kill(mpv.pid, signal.SIGKILL)

    started, crashed = seen
    assert isinstance(crashed, Crashed)
    assert crashed.detail == "mpv was killed by SIGKILL"
    assert "\n" not in crashed.detail
    assert played_intervals(seen) == [(started.t_s, crashed.t_s)]
    assert not played_completely(seen)
    with pytest.raises(PlayerCrashedError):
        await mpv.pause()
    await mpv.close()
    assert mpv.ipc_dir is not None
    assert not mpv.ipc_dir.exists()


async def test_missing_mpv_is_a_typed_one_line_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    mpv = MpvPlayer()
    with pytest.raises(PlayerMissingError) as caught:
        await mpv.start()

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("mpv not found on PATH")
    assert "apt install mpv" in message
    assert mpv.ipc_dir is None


async def test_a_player_that_exits_at_once_fails_to_start_and_cleans_up() -> None:
    mpv = MpvPlayer(executable="false")
    with pytest.raises(PlayerStartError, match="exited before opening its IPC socket"):
        await mpv.start()
    assert mpv.ipc_dir is not None
    assert not mpv.ipc_dir.exists()


async def test_ipc_directory_is_private_and_no_shell_starts_mpv(player: MpvPlayer) -> None:
    assert player.ipc_dir is not None
    assert player.pid is not None
    ipc_dir = player.ipc_dir
    assert stat.S_IMODE(ipc_dir.stat().st_mode) == 0o700
    assert stat.S_ISSOCK((ipc_dir / "ipc.sock").stat().st_mode)
    cmdline = proc_file(player.pid, "cmdline").split(b"\0")[:-1]
    assert [arg.decode() for arg in cmdline] == list(player.argv)
    assert Path(player.argv[0]).name == "mpv"
    status = proc_file(player.pid, "status").decode()
    assert f"PPid:\t{os.getpid()}\n" in status  # our child, not a shell's

    await player.close()
    assert not ipc_dir.exists()


def test_mpv_quits_when_the_process_that_started_it_is_killed(tmp_path: Path) -> None:
    script = (
        "import asyncio\n"
        "from biofeedback.playback import MpvPlayer\n"
        "async def main():\n"
        "    mpv = MpvPlayer(silent=True, extra_args=('--no-config',))\n"
        "    await mpv.start()\n"
        "    print(mpv.pid, mpv.ipc_dir, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    pid_text, ipc_dir = owner.stdout.readline().split()
    mpv_pid = int(pid_text)
    owner.kill()
    owner.wait()
    owner.stdout.close()

    deadline = time.monotonic() + 10.0
    while Path(f"/proc/{mpv_pid}").exists() and time.monotonic() < deadline:
        # A zombie of an orphan is reaped by init; only its state matters here.
        if "State:\tZ" in Path(f"/proc/{mpv_pid}/status").read_text():
            break
        time.sleep(0.05)
    alive = Path(f"/proc/{mpv_pid}").exists() and (
        "State:\tZ" not in Path(f"/proc/{mpv_pid}/status").read_text()
    )
    if alive:
        os.kill(mpv_pid, signal.SIGKILL)
    shutil.rmtree(ipc_dir)  # its owner was killed before it could clean up
    assert not alive
