"""Bounded protocols (issue 12, item 13): a cap on blocks, a linear block order, bounded reads,
and playlists that cannot leave an until-media-ends block waiting forever."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from biofeedback.errors import InputError
from biofeedback.sessions.protocol import (
    MAX_BLOCKS,
    load_protocol,
    williams_row,
    williams_square,
)
from biofeedback.sessions.protocol_toml import MAX_PROTOCOL_BYTES

HEAD = 'name = "limits"\nsettling_s = 0\nbaseline_s = 0\nwashout_s = 0\n'


def write(tmp_path: Path, text: str, name: str = "p.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def blocks(n: int, body: str = "duration_s = 1") -> str:
    return "".join(f'\n[[block]]\nlabel = "tapping"\n{body}\n' for _ in range(n))


def refused(path: Path, match: str) -> str:
    with pytest.raises(InputError, match=match) as info:
        load_protocol(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    return message


def test_more_than_the_cap_of_blocks_is_refused_with_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + blocks(MAX_BLOCKS + 1))
    message = refused(path, f"{MAX_BLOCKS + 1} blocks: a protocol may have at most {MAX_BLOCKS}")
    assert message.startswith(f"{path}:6:")  # the first [[block]]


def test_a_hundred_thousand_blocks_are_refused_quickly(tmp_path: Path) -> None:
    # Once OOM-killed at 24 GB (the Williams square was built for every plan).
    compact = "block = [" + ", ".join(['{label = "tapping", duration_s = 1}'] * 100_000) + "]\n"
    path = write(tmp_path, HEAD + compact)
    assert path.stat().st_size <= MAX_PROTOCOL_BYTES
    started = time.monotonic()
    refused(path, "100000 blocks: a protocol may have at most")
    assert time.monotonic() - started < 30


def test_blocks_times_repetitions_are_capped(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "repetitions = 2\n" + blocks(MAX_BLOCKS // 2 + 1))
    refused(path, r"blocks × 2 repetitions: a session may plan at most 10000 trigger blocks")


def test_a_counterbalanced_plan_at_the_cap_is_linear(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + 'order = "counterbalanced"\n' + blocks(MAX_BLOCKS))
    protocol = load_protocol(path)
    started = time.monotonic()
    plan = protocol.plan(session_index=12_345)
    # A square of 10^8 entries would take minutes and gigabytes; one row is instant.
    assert time.monotonic() - started < 5
    assert plan.order == tuple(williams_row(MAX_BLOCKS, 12_345))
    assert sorted(plan.order) == list(range(MAX_BLOCKS))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7])
def test_plans_walk_the_rows_of_the_williams_square(tmp_path: Path, n: int) -> None:
    path = write(tmp_path, HEAD + 'order = "counterbalanced"\nrepetitions = 2\n' + blocks(n))
    protocol = load_protocol(path)
    square = williams_square(n)
    for session in range(len(square) + 1):
        order = protocol.plan(session_index=session).order
        rows = [square[(session * 2 + rep) % len(square)] for rep in range(2)]
        assert list(order) == rows[0] + rows[1]


def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "p.toml"
    os.mkfifo(fifo)
    errors: list[BaseException] = []

    def load() -> None:
        try:
            load_protocol(fifo)
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the reader before failing
        with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb"):
            pass
        pytest.fail("load_protocol hung on a FIFO")
    (error,) = errors
    assert isinstance(error, InputError)
    assert str(error) == f"{fifo}: cannot read the protocol: not a regular file"


def test_a_device_and_an_oversized_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a regular file"):
        load_protocol(Path("/dev/zero"))
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (MAX_PROTOCOL_BYTES + 1))
    with pytest.raises(InputError, match="larger than 4 MiB"):
        load_protocol(big)


# -- playlists ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.m3u", ""),
        ("header.m3u", "#EXTM3U\n"),
        ("comments.m3u8", "#EXTM3U\n# nothing here\n\n   \n"),
        ("empty.pls", "[playlist]\nNumberOfEntries=0\nVersion=2\n"),
        ("blank.pls", "[playlist]\nFile1=\n"),
    ],
)
@pytest.mark.parametrize("duration", ['"until-media-ends"', "30"])
def test_an_empty_playlist_is_refused_at_load(
    tmp_path: Path, name: str, content: str, duration: str
) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    body = f'media = "{name}"\nduration_s = {duration}'
    path = write(tmp_path, HEAD + blocks(1, body))
    message = refused(path, "has no entries")
    assert message == f"{path}:8: playlist {(tmp_path / name).resolve()} has no entries"


def test_a_playlist_of_local_files_and_urls_loads(tmp_path: Path) -> None:
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.wav").write_bytes(b"RIFF")
    (tmp_path / "list.m3u").write_text(
        "#EXTM3U\n#EXTINF:3,a\na.wav\nsub/b.wav\nhttps://example.org/c.mp3\n", encoding="utf-8"
    )
    (tmp_path / "list.pls").write_text(
        "[playlist]\nFile1=a.wav\nTitle1=a\nFile2=http://example.org/d.ogg\nNumberOfEntries=2\n",
        encoding="utf-8",
    )
    body = 'media = "list.m3u"\nduration_s = "until-media-ends"'
    protocol = load_protocol(
        write(tmp_path, HEAD + blocks(1, body) + blocks(1, body.replace("m3u", "pls")))
    )
    assert [b.media for b in protocol.blocks] == [
        str((tmp_path / "list.m3u").resolve()),
        str((tmp_path / "list.pls").resolve()),
    ]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("a.wav\nav://lavfi:sine,ametadata=mode=print:file=/tmp/x\n", "scheme 'av' is not allowed"),
        ("edl://a.wav,0,1\n", "scheme 'edl' is not allowed"),
        ("[playlist]\nFile1=memory://abc\n", "scheme 'memory' is not allowed"),
        ("missing.wav\n", "media file not found"),
        ("self.m3u\n", "includes itself"),
    ],
)
def test_a_playlist_entry_outside_the_allowlist_is_refused(
    tmp_path: Path, content: str, match: str
) -> None:
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    name = "self.pls" if content.startswith("[playlist]") else "self.m3u"
    (tmp_path / name).write_text(content, encoding="utf-8")
    path = write(tmp_path, HEAD + blocks(1, f'media = "{name}"\nduration_s = 30'))
    message = refused(path, match)
    assert f"playlist {(tmp_path / name).resolve()}" in message


def test_a_playlist_disguised_as_audio_is_checked_too(tmp_path: Path) -> None:
    (tmp_path / "song.mp3").write_text("#EXTM3U\nfd://0\n", encoding="utf-8")
    path = write(tmp_path, HEAD + blocks(1, 'media = "song.mp3"\nduration_s = 30'))
    refused(path, "scheme 'fd' is not allowed")


def test_protocol_doctests_hold() -> None:
    import doctest

    import biofeedback.sessions.protocol

    assert doctest.testmod(biofeedback.sessions.protocol).failed == 0
