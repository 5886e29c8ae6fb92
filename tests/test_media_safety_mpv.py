"""The real mpv, started as the recorder starts it, stays a player (issue 12, item 8).

With allowed media (a local wav, a local playlist, an http URL) mpv writes no file, opens no
listening socket and ignores a planted user configuration and scripts. Dangerous strings never
reach it, and local files that try to smuggle them in (an EDL disguised as audio, playlists
with special-protocol entries) are stopped by mpv itself under our options.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from biofeedback.playback import Ended, MpvPlayer, PlayerEvent, Started, played_duration_s
from biofeedback.playback.errors import MediaRefusedError
from biofeedback.playback.mpv import SAFETY_OPTIONS
from tests.media_support import write_sine

_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp
_SO_ACCEPTCON = 0x10000  # a listening unix socket in /proc/net/unix


def needs_mpv() -> None:
    if shutil.which("mpv") is None:
        pytest.skip("mpv not installed")


# -- what a process has open --------------------------------------------------------------


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def network_sockets(pid: int) -> list[tuple[str, str, str]]:
    """``(table, local address, state)`` of every inet socket the process holds."""
    ours = socket_inodes(pid)
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[9] in ours:
                found.append((table, fields[1], fields[3]))
    return found


def listening_unix_paths(pid: int) -> list[str]:
    ours = socket_inodes(pid)
    paths = []
    for line in Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 7 and fields[6] in ours and int(fields[3], 16) & _SO_ACCEPTCON:
            paths.append(fields[7] if len(fields) > 7 else "")
    return paths


def files_open_for_writing(pid: int) -> list[str]:
    written = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            info = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
        except OSError:
            continue
        flags = next(int(ln.split()[1], 8) for ln in info.splitlines() if ln.startswith("flags:"))
        writable = flags & os.O_ACCMODE in (os.O_WRONLY, os.O_RDWR)
        if writable and target.startswith("/") and os.path.isfile(target):
            written.append(target)
    return written


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home with a planted mpv configuration and script that would leave traces if read,
    a working directory and a temporary directory, all under one directory.

    A short one: mpv's IPC socket goes in its temporary directory, and an AF_UNIX path has at
    most 107 bytes (``tmp_path`` under an xdist worker, with a long test name, is longer).
    """
    needs_mpv()
    tmp_path = tmp_path_factory.mktemp("sandbox")
    home = tmp_path / "home"
    config = home / ".config" / "mpv"
    (config / "scripts").mkdir(parents=True)
    (config / "script-opts").mkdir()
    (config / "mpv.conf").write_text(
        f"log-file={home}/mpv.log\nsave-position-on-quit=yes\n"
        f"watch-later-directory={home}/later\nscreenshot-directory={home}/shots\n"
    )
    (config / "input.conf").write_text("ESC quit-watch-later\n")
    (config / "scripts" / "trace.lua").write_text(
        f'local f = io.open("{home}/script-ran", "w") f:write("ran") f:close()\n'
    )
    (tmp_path / "cwd").mkdir()
    (tmp_path / "tmp").mkdir()
    (tmp_path / "media").mkdir()
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.chdir(tmp_path / "cwd")
    return tmp_path


@pytest.fixture
def http_url(sandbox: Path) -> Iterator[str]:
    """A local HTTP server for ``sandbox/web`` (mpv connects out; it must not listen)."""
    web = sandbox / "web"
    web.mkdir()
    write_sine(web / "web.wav", 1.0)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(web))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/web.wav"
    server.shutdown()
    server.server_close()


async def play(
    media: str, *, watch_s: float = 4.0, expect_refusal: bool = False
) -> tuple[list[PlayerEvent], list[str]]:
    """Load ``media`` in a fresh mpv, watch its descriptors until it ends; return the events
    and every problem seen (listening or network sockets, files open for writing)."""
    events: list[PlayerEvent] = []
    problems: list[str] = []
    async with MpvPlayer(silent=True, on_event=events.append) as player:
        assert player.pid is not None
        assert player.ipc_dir is not None
        ipc_path = str(player.ipc_dir / "ipc.sock")
        if expect_refusal:
            with pytest.raises(MediaRefusedError):
                await player.load(media)
        else:
            await player.load(media)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + watch_s
        while loop.time() < deadline:
            for table, address, state in network_sockets(player.pid):
                if not table.startswith("tcp") or state == _LISTEN:
                    problems.append(f"{table} socket {address} state {state}")
            for path in listening_unix_paths(player.pid):
                if path != ipc_path:
                    problems.append(f"listening unix socket {path!r}")
            problems += [f"open for writing: {p}" for p in files_open_for_writing(player.pid)]
            if any(isinstance(e, Ended) for e in events):
                break
            await asyncio.sleep(0.05)
    return events, sorted(set(problems))


def test_every_safety_option_is_known_to_the_installed_mpv() -> None:
    needs_mpv()
    listed = subprocess.run(
        ["mpv", "--no-config", "--list-options"], capture_output=True, text=True, check=True
    ).stdout
    names = {line.split()[0] for line in listed.splitlines() if line.strip().startswith("--")}
    for option in SAFETY_OPTIONS:
        name = option.split("=", 1)[0]
        if name.startswith("--no-"):
            name = "--" + name[len("--no-") :]
        for suffix in ("-append", "-add", "-set"):
            name = name.removesuffix(suffix) if name.endswith("-o" + suffix) else name
        assert name in names, option


@pytest.mark.slow  # real mpv plays the media through, watched in real time
def test_allowed_media_play_without_writing_files_or_listening(
    sandbox: Path, http_url: str
) -> None:
    media = sandbox / "media"
    wav = write_sine(media / "a.wav", 1.0)
    write_sine(media / "b.wav", 0.5)
    playlist = media / "list.m3u"
    playlist.write_text("#EXTM3U\na.wav\nb.wav\n", encoding="utf-8")
    before = snapshot(sandbox)
    for value in (str(wav), str(playlist), http_url):
        events, problems = asyncio.run(play(value))
        assert problems == [], value
        kinds = [type(e) for e in events]
        assert Started in kinds, (value, events)
        assert Ended(events[-1].t_s, "eof") == events[-1], (value, events)
        assert kinds.count(Ended) == 1, events
        if value == str(playlist):  # one media: both items play, then it ends
            assert kinds.count(Started) == 2, events
            assert played_duration_s(events) == pytest.approx(1.5, abs=0.3)
    # Nothing new or changed anywhere: home (no log, watch-later, screenshot, script trace),
    # working directory, media folder; the IPC directory was removed.
    assert snapshot(sandbox) == before


DANGEROUS_DIRECT = [
    "av://lavfi:sine=d=1,ametadata=mode=print:file={pwned}",
    "avdevice://lavfi:sine=d=1,ametadata=mode=print:file={pwned}",
    "lavfi://sine=d=1,ametadata=mode=print:file={pwned}",
    "edl://av://lavfi:sine=d=1,ametadata=mode=print:file={pwned}",
    "memory://#EXTM3U",
    "fd://0",
    "file://{pwned}",
    "-",
    "relative.wav",
]


@pytest.mark.parametrize("template", DANGEROUS_DIRECT)
def test_a_dangerous_string_given_to_the_player_directly_is_refused(
    sandbox: Path, template: str
) -> None:
    pwned = sandbox / "pwned"
    events, problems = asyncio.run(
        play(template.format(pwned=pwned), watch_s=1.5, expect_refusal=True)
    )
    assert problems == []
    assert [(type(e), getattr(e, "reason", None)) for e in events] == [(Ended, "error")]
    assert not pwned.exists()


SMUGGLED = {
    "song.wav": "# mpv EDL v0\nav://lavfi:sine=d=1,ametadata=mode=print:file={pwned}\n",
    "lavfi.m3u": "#EXTM3U\nav://lavfi:sine=d=1,ametadata=mode=print:file={pwned}\n",
    "listen.m3u": "av://lavfi:sine=d=3,azmq=bind_address=tcp\\\\://127.0.0.1\\\\:5555\n",
    "edl.m3u": "edl://av://lavfi:sine=d=1,ametadata=mode=print:file={pwned}\n",
    "nested.pls": "[playlist]\nFile1=lavfi://sine=d=1,ametadata=mode=print:file={pwned}\n",
}


@pytest.mark.parametrize("name", sorted(SMUGGLED))
def test_local_files_cannot_smuggle_special_protocols_into_mpv(sandbox: Path, name: str) -> None:
    # These are refused when a protocol is loaded; here they reach mpv as absolute paths (as
    # if the file changed after loading), and mpv's origin rules under our options hold.
    pwned = sandbox / "pwned"
    path = sandbox / "media" / name
    path.write_text(SMUGGLED[name].format(pwned=pwned), encoding="utf-8")
    events, problems = asyncio.run(play(str(path), watch_s=5.0))
    assert problems == []
    assert not any(isinstance(e, Started) for e in events), events
    assert events
    assert isinstance(events[-1], Ended)
    assert events[-1].reason == "error"
    assert not pwned.exists()


def test_an_empty_playlist_ends_with_an_error_instead_of_waiting(sandbox: Path) -> None:
    path = sandbox / "media" / "empty.m3u"
    path.write_text("#EXTM3U\n", encoding="utf-8")
    events, problems = asyncio.run(play(str(path), watch_s=5.0))
    assert problems == []
    assert len(events) == 1
    assert isinstance(events[0], Ended)
    assert (events[0].reason, events[0].detail) == ("error", "nothing to play")
