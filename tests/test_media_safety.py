"""A protocol cannot turn mpv against the user (issue 12, item 8): media outside the allowlist
(local files, http:// and https:// URLs) are refused when the protocol is loaded, with one line
naming the file, the line and the value; the player refuses them again in front of mpv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from biofeedback.errors import InputError
from biofeedback.playback.errors import MediaRefusedError
from biofeedback.playback.media import check_playable
from biofeedback.sessions.protocol import load_protocol

REPO = Path(__file__).resolve().parents[1]
HEAD = 'name = "media"\nsettling_s = 0\nbaseline_s = 10\nwashout_s = 0\n'
MEDIA_LINE = 8

DANGEROUS = [
    "av://lavfi:sine=d=1,ametadata=mode=print:file=PWNED",
    "av://lavfi:sine,azmq",
    "avdevice://lavfi:sine",
    "lavfi://sine",
    "lavf://file:/etc/passwd",
    "ffmpeg://concat:/etc/passwd",
    "fd://0",
    "fdclose://3",
    "edl://%20%/etc/passwd,0,1",
    "memory://hello",
    "data:audio/wav;base64,UklGRg==",
    "data://audio/wav;base64,UklGRg==",
    "ytdl://ytsearch:asmr",
    "dvd://",
    "dvdnav://",
    "bd://1",
    "bluray://1",
    "cdda://",
    "dvb://1",
    "smb://host/share/a.wav",
    "rtmp://host/app/stream",
    "rtsp://host/stream",
    "udp://0.0.0.0:5555",
    "tcp://0.0.0.0:5555?listen",
    "appending:///etc/passwd",
    "slice://0-10@/etc/passwd",
    "null://",
    "mf://*.jpg",
    "file://evil.example/share/a.wav",
    "FILE://evil.example/x.wav",
    "AV://lavfi:sine",
    "-",
    "--script=/tmp/evil.lua",
    "-v",
    "sub/av://lavfi:sine",
    "http://",
    "https:///no-host",
    "http://host/a b.wav",
    "a.wav\nav://lavfi:sine",
    "x.wav\x1b[2J",
]


def protocol_with(tmp_path: Path, media: str) -> Path:
    text = HEAD + f'\n[[block]]\nlabel = "tapping"\nmedia = {toml_string(media)}\nduration_s = 30\n'
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    assert text.splitlines()[MEDIA_LINE - 1].startswith("media = ")
    return path


def toml_string(value: str) -> str:
    escaped = "".join(
        c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in value
    )
    return f'"{escaped}"'


@pytest.mark.parametrize("media", DANGEROUS)
def test_media_outside_the_allowlist_is_refused_at_load_with_one_line(
    tmp_path: Path, media: str
) -> None:
    media = media.replace("PWNED", str(tmp_path / "pwned"))
    path = protocol_with(tmp_path, media)
    with pytest.raises(InputError) as info:
        load_protocol(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{MEDIA_LINE}: media "), message
    assert "refused" in message
    assert "\n" not in message
    assert "\x1b" not in message
    assert repr(media)[:60] in message
    assert not (tmp_path / "pwned").exists()


def test_a_local_file_and_urls_are_allowed(tmp_path: Path) -> None:
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    for media, expected in [
        ("a.wav", str((tmp_path / "a.wav").resolve())),
        ("./a.wav", str((tmp_path / "a.wav").resolve())),
        (str(tmp_path / "a.wav"), str((tmp_path / "a.wav").resolve())),
        ("https://www.youtube.com/watch?v=abc", "https://www.youtube.com/watch?v=abc"),
        ("HTTP://example.org/a.mp3", "http://example.org/a.mp3"),
    ]:
        assert load_protocol(protocol_with(tmp_path, media)).blocks[0].media == expected


def test_a_file_url_is_read_as_its_local_path(tmp_path: Path) -> None:
    # Decided: file:// (empty host or localhost) names a local file and is stored as its path,
    # so mpv never sees a file:// URL; any other host is refused above.
    (tmp_path / "a b.wav").write_bytes(b"RIFF")
    url = f"file://{tmp_path}/a%20b.wav"
    protocol = load_protocol(protocol_with(tmp_path, url))
    assert protocol.blocks[0].media == str((tmp_path / "a b.wav").resolve())
    with pytest.raises(InputError, match="media file not found"):
        load_protocol(protocol_with(tmp_path, f"file://localhost{tmp_path}/missing.wav"))


def test_an_edl_file_disguised_as_audio_is_refused(tmp_path: Path) -> None:
    (tmp_path / "song.wav").write_text(
        "# mpv EDL v0\nav://lavfi:sine,ametadata=mode=print:file=/tmp/x\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="EDL files are not allowed"):
        load_protocol(protocol_with(tmp_path, "song.wav"))


def test_the_cli_exits_2_with_one_line_and_creates_nothing(tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    path = protocol_with(tmp_path, f"av://lavfi:sine=d=1,ametadata=mode=print:file={pwned}")
    db = tmp_path / "s.db"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "biofeedback", "record", "--simulate"),
            *("--protocol", str(path), "--headless", "--player", "mpv", "--db", str(db)),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{path}:{MEDIA_LINE}: media 'av://lavfi:" in lines[0]
    assert "Traceback" not in result.stderr
    assert not pwned.exists()


# -- the player's own check ------------------------------------------------------------------


@pytest.mark.parametrize(
    "media",
    [*DANGEROUS, "a.wav", "relative/dir/a.wav", "~/a.wav", "file:///etc/passwd", ""],
)
def test_the_player_refuses_anything_but_absolute_paths_and_http_urls(media: str) -> None:
    with pytest.raises(MediaRefusedError, match="refusing to play"):
        check_playable(media)


@pytest.mark.parametrize(
    "media",
    ["/abs/a.wav", "/abs/dir with space/a:b.wav", "http://h/a.mp3", "HTTPS://h:8080/p?q=1#f"],
)
def test_the_player_accepts_absolute_paths_and_http_urls(media: str) -> None:
    assert check_playable(media) == media


# -- playlists in the event translator -------------------------------------------------------


def feed(messages: list[tuple[float, dict[str, object]]]) -> list[object]:
    from biofeedback.playback.mpv_events import MpvEventTranslator

    translator = MpvEventTranslator()
    translator.expect("/m/list.m3u")
    return [e for t_s, message in messages for e in translator.feed(message, t_s)]


def idle(active: bool) -> dict[str, object]:
    return {"event": "property-change", "name": "idle-active", "data": active}


def item(entry: int, start_s: float, end_s: float) -> list[tuple[float, dict[str, object]]]:
    return [
        (start_s, {"event": "start-file", "playlist_entry_id": entry}),
        (start_s + 0.01, {"event": "file-loaded"}),
        (start_s + 0.02, {"event": "playback-restart"}),
        (end_s, {"event": "end-file", "reason": "eof", "playlist_entry_id": entry}),
    ]


def test_a_playlist_is_one_media_that_ends_after_its_last_item() -> None:
    from biofeedback.playback.events import Ended, Started

    events = feed(
        [
            (0.0, {"event": "start-file", "playlist_entry_id": 1}),
            (0.0, idle(False)),
            (0.01, {"event": "end-file", "reason": "redirect", "playlist_entry_id": 1}),
            *item(2, 0.02, 1.0),
            *item(3, 1.01, 1.5),
            (1.52, idle(True)),
        ]
    )
    assert [type(e) for e in events] == [Started, Started, Ended]
    assert events[-1] == Ended(1.5, "eof")


def test_an_empty_playlist_ends_as_an_error_when_mpv_goes_idle() -> None:
    from biofeedback.playback.events import Ended

    events = feed(
        [
            (0.0, idle(True)),  # before the load: ignored
            (0.1, {"event": "start-file", "playlist_entry_id": 1}),
            (0.1, idle(False)),
            (0.2, {"event": "end-file", "reason": "redirect", "playlist_entry_id": 1}),
            (0.3, idle(True)),
        ]
    )
    assert events == [Ended(0.3, "error", "nothing to play")]
