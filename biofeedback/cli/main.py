"""``biofeedback``: the command line. Parsing is cheap; each command's work is imported lazily."""

from __future__ import annotations

import argparse
import importlib
import math
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Sequence
from typing import Final, NoReturn

from biofeedback import __version__
from biofeedback.cli.options import CORRECTION_CHOICES

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_BAD_INPUT: Final = 2
EXIT_INTERRUPTED: Final = 130

NOT_MEDICAL: Final = "Not a medical device: for self-experiment and research, never for diagnosis."

Handler = Callable[[argparse.Namespace], int]


MAX_SESSION_ID: Final = 2**63 - 1
"""Session ids are SQLite INTEGER primary keys: 1 .. 2**63 - 1."""
MAX_SESSION_IDS: Final = 100_000
"""Most ids a ``--sessions`` list may name (ranges are counted before any list is built)."""
MAX_DURATION_S: Final = 7 * 24 * 3600.0
"""Longest ``--duration`` accepted (7 days): a simulated week is ~600 000 beats."""
MAX_LATENCY_S: Final = 10.0
"""Largest simulated ``--latency`` (the simulator's own limit)."""
MAX_SPEED: Final = 1e6
"""Largest ``--speed`` (time acceleration) accepted."""


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's one-line error (README: exit 2, one line, no traceback)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _shown(text: str, limit: int = 32) -> str:
    """``repr`` of a user's text, cut so that an error stays one short line."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {_shown(text)}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number: {_shown(text)}")
    return value


def _positive_float(text: str) -> float:
    value = _float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {_shown(text)}")
    return value


def _non_negative_float(text: str) -> float:
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {_shown(text)}")
    return value


def _duration_s(text: str) -> float:
    value = _positive_float(text)
    if value > MAX_DURATION_S:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_DURATION_S:.0f} s (7 days), got {_shown(text)}"
        )
    return value


def _latency_s(text: str) -> float:
    value = _non_negative_float(text)
    if value > MAX_LATENCY_S:
        raise argparse.ArgumentTypeError(f"at most {MAX_LATENCY_S:g} s, got {_shown(text)}")
    return value


def _speed(text: str) -> float:
    value = _positive_float(text)
    if value > MAX_SPEED:
        raise argparse.ArgumentTypeError(f"at most {MAX_SPEED:g}, got {_shown(text)}")
    return value


def _int_in(text: str, lo: int, hi: int, what: str) -> int:
    digits = text.strip()
    # int() accepts underscores and other scripts' digits; these are plain ASCII decimals.
    if not re.fullmatch(r"[+-]?[0-9]{1,40}", digits):
        raise argparse.ArgumentTypeError(f"not {what}: {_shown(text)}")
    value = int(digits)
    if not lo <= value <= hi:
        raise argparse.ArgumentTypeError(f"{what} must be from {lo} to {hi}: {_shown(text)}")
    return value


def _seed(text: str) -> int:
    return _int_in(text, 0, 2**63 - 1, "a seed")


def _sample_number(text: str) -> int:
    """A Kubios report's sample number (1, 2, ...)."""
    return _int_in(text, 1, 10_000, "a sample number")


def _session_id(text: str) -> int:
    """A session id, 1 .. 2**63 - 1 (an SQLite INTEGER); anything else is refused here."""
    return _int_in(text, 1, MAX_SESSION_ID, "a session id")


def _session_ids(text: str) -> str:
    """``--sessions`` text such as ``3,5,8-10``, checked and counted without building a list.

    Every id must be a session id (:func:`_session_id`) and the list may name at most
    :data:`MAX_SESSION_IDS` ids, so ``1-99999999999`` is refused here, not expanded.
    Returns the text for :func:`biofeedback.analysis.load.parse_ids`.
    """
    total = 0
    for raw in text.split(","):
        first, sep, last = raw.strip().partition("-")
        try:
            lo = _session_id(first)
            hi = _session_id(last) if sep else lo
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(
                f"bad id or range {_shown(raw.strip())} (expected e.g. 3,5,8-10; "
                f"ids from 1 to {MAX_SESSION_ID})"
            ) from None
        if hi < lo:
            raise argparse.ArgumentTypeError(f"bad range {_shown(raw.strip())} (end < start)")
        total += hi - lo + 1
        if total > MAX_SESSION_IDS:
            raise argparse.ArgumentTypeError(
                f"{_shown(text)} names more than {MAX_SESSION_IDS} sessions"
            )
    return text


def _add_source_options(p: argparse.ArgumentParser, *, device: bool = True) -> None:
    g = p.add_argument_group("source (one of)")
    g.add_argument(
        "--simulate",
        nargs="?",
        const="sim",
        choices=["sim", "ble"],
        help="the simulated strap; 'ble' runs it through bleak and a private fake BlueZ (Linux)",
    )
    if device:
        g.add_argument("--device", metavar="ADDR|NAME", help="a real strap: address or name part")
        g.add_argument("--replay", metavar="FILE", help="replay a recording (bundle, RR file...)")
    p.add_argument("--profile", default="responder", help="simulator profile name or TOML file")
    p.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="simulator seed, also of a randomised block order (default 0)",
    )
    p.add_argument("--speed", type=_speed, default=1.0, help="time acceleration (sim)")
    p.add_argument(
        "--segments",
        default="baseline:300,whispering:300,washout:60,tapping:300",
        help="simulated timeline as label:seconds,... (default: %(default)s)",
    )
    p.add_argument(
        "--duration", type=_duration_s, metavar="S", help="stop after S seconds (at most 7 days)"
    )
    p.add_argument("--artifacts", default="", metavar="K=V,...", help=f"simulator {_ARTIFACT_HELP}")


def _add_strap(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument(
        "--strap",
        choices=["h10", "hr"],
        default=default,
        help="the simulated strap: h10 (a Polar H10: raw ECG and chest acceleration beside the "
        "RRs, the ECG strip on the dashboard) or hr (the Heart Rate Service only); "
        "default %(default)s",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="biofeedback",
        description="Live HRV biofeedback during ASMR from a Bluetooth heart-rate strap. "
        + NOT_MEDICAL,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("simulate", help="write a simulated recording with its ground truth")
    _add_source_options(p, device=False)
    p.set_defaults(duration=None)
    p.add_argument("--out", required=True, metavar="FILE", help="output: .json bundle or .txt RR")
    p.add_argument("--format", choices=["json", "rr"], help="default: from the file extension")
    p.add_argument(
        "--latency", type=_latency_s, default=0.0, metavar="S", help="max delivery delay"
    )
    p.set_defaults(handler="biofeedback.cli.cmd_simulate:run", simulate="sim")

    p = sub.add_parser("stream", help="print live beats and heart rate (headless)")
    _add_source_options(p)
    p.add_argument("--json", action="store_true", help="one JSON object per event")
    p.set_defaults(handler="biofeedback.cli.cmd_stream:run")

    p = sub.add_parser("scan", help="list nearby heart-rate straps (service 0x180D)")
    p.add_argument("--timeout", type=_positive_float, default=5.0, metavar="S")
    p.add_argument("--json", action="store_true")
    p.add_argument("--simulate", nargs="?", const="ble", choices=["ble"], help="scan the fake")
    p.set_defaults(handler="biofeedback.cli.cmd_scan:run")

    p = sub.add_parser(
        "analyze", help="HRV of RR files: whole record or sliding windows; a folder to one table"
    )
    p.add_argument(
        "file",
        nargs="+",
        metavar="FILE|DIR",
        help="an RR or ECG recording (README: import formats); several, or folders, with --out",
    )
    p.add_argument("--out", metavar="TABLE", help="one table for all files (.csv or .parquet)")
    p.add_argument(
        "--jobs",
        type=lambda t: _int_in(t, 1, 256, "a process count"),
        metavar="N",
        help="processes for --out (default: one per core)",
    )
    p.add_argument("--json", action="store_true", help="JSON (JSON lines for windows)")
    p.add_argument("--window", type=_positive_float, metavar="S", help="sliding window length")
    p.add_argument("--step", type=_positive_float, metavar="S", help="window step")
    p.add_argument("--method", choices=["welch", "lomb"], default="welch")
    _add_artifact_method(p)
    p.add_argument(
        "--correction",
        choices=CORRECTION_CHOICES,
        help="artifact correction as in Kubios: none, very-low .. very-strong thresholds (0.45 .. "
        "0.05 s at 60 bpm), automatic (Lipponen & Tarvainen; default), or robust",
    )
    p.add_argument(
        "--detrend",
        type=_detrend,
        metavar="none|smoothness-priors[:LAMBDA]",
        help="detrending before time-domain, Poincare and spectral analysis, as Kubios "
        "(default: none before time domain, smoothness priors lambda 500 before spectra)",
    )
    p.add_argument(
        "--beats-out",
        metavar="CSV",
        help="one file: also write every input interval (t_s, rr_ms, label, nn_ms, nn_count, "
        "segment, withheld) to CSV",
    )
    p.add_argument(
        "--acc",
        metavar="ACC_FILE",
        help="one file: a Polar Sensor Logger ACC file recorded with it; adds the breathing rate "
        "from the chest",
    )
    p.add_argument("--unit", choices=["ms", "s"], help="RR unit of a text file (default: detect)")
    p.add_argument(
        "--compare-kubios",
        action="store_true",
        help="for Kubios HRV report files: Kubios's own results beside this program's, "
        "analysed with the settings the report states (correction, detrending, bands)",
    )
    p.add_argument(
        "--kubios-sample",
        type=_sample_number,
        metavar="N",
        help="with --compare-kubios: only sample N of a report of several (default: each)",
    )
    p.set_defaults(handler="biofeedback.cli.cmd_table:run")

    p = sub.add_parser("sessions", help="list recorded sessions")
    p.add_argument("--json", action="store_true")
    _add_db(p)
    p.set_defaults(handler="biofeedback.cli.cmd_sessions:run_sessions")

    p = sub.add_parser("show", help="one session's details")
    p.add_argument("id", type=_session_id)
    p.add_argument("--json", action="store_true")
    _add_correction(p, "recompute the blocks with this correction (default: as stored)")
    _add_db(p)
    p.set_defaults(handler="biofeedback.cli.cmd_sessions:run_show")

    p = sub.add_parser(
        "export",
        help="export a session: json bundle, csv, rr, kubios, beats (CSV), bids, ecg/acc (CSV)",
    )
    p.add_argument("id", type=_session_id)
    p.add_argument(
        "--format",
        required=True,
        choices=["json", "csv", "rr", "kubios", "beats", "bids", "ecg", "acc"],
        help="beats: CSV with beat times and gap marks; bids: BIDS physio NAME_physio.tsv.gz "
        "and .json (needs --out); ecg: raw ECG CSV t_s,ecg_uv; acc: t_s,x_mg,y_mg,z_mg",
    )
    p.add_argument("--out", metavar="FILE", help="output file (default: standard output)")
    _add_db(p)
    p.set_defaults(handler="biofeedback.cli.cmd_sessions:run_export")

    p = sub.add_parser(
        "import", help="import recordings (README: import formats); files, folders or globs"
    )
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE|DIR",
        help="recordings; a folder imports every file in it, a quoted glob its matches",
    )
    p.add_argument(
        "--jobs",
        type=lambda t: _int_in(t, 1, 256, "a process count"),
        metavar="N",
        help="processes reading files (default: one per core)",
    )
    p.add_argument("--unit", choices=["ms", "s"], help="RR unit of a text file (default: detect)")
    p.add_argument(
        "--first-is-offset",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the first value is the offset to the first beat (default: detect)",
    )
    _add_db(p)
    p.set_defaults(handler="biofeedback.cli.cmd_sessions:run_import")

    p = sub.add_parser("delete", help="delete a session (asks first)")
    p.add_argument("id", type=_session_id)
    p.add_argument("--yes", action="store_true", help="do not ask")
    _add_db(p)
    p.set_defaults(handler="biofeedback.cli.cmd_sessions:run_delete")

    p = sub.add_parser("compare", help="which triggers change my physiology, across sessions")
    p.add_argument("--metric", choices=["lnrmssd", "hr", "hf", "pns", "resp"], default="lnrmssd")
    p.add_argument(
        "--reference",
        choices=["auto", "control", "others", "baseline"],
        default="auto",
        help="what a trigger's effect is measured against (auto: the control condition if the "
        "sessions have one, else the mean of the other triggers; the baseline is also reported)",
    )
    p.add_argument("--since", metavar="DATE", help="only sessions from this day on (YYYY-MM-DD)")
    p.add_argument(
        "--sessions", type=_session_ids, metavar="IDS", help="session ids, e.g. 3,5,8-10"
    )
    p.add_argument("--json", action="store_true")
    _add_correction(p, _RECOMPUTE_CORRECTION_HELP)
    _add_db(p)
    p.set_defaults(handler="biofeedback.cli.cmd_compare:run")

    p = sub.add_parser("report", help="a self-contained HTML report of a session or the comparison")
    p.add_argument("id", type=_session_id, nargs="?", help="session id (or use --compare)")
    p.add_argument("--compare", action="store_true", help="the trigger comparison across sessions")
    p.add_argument("-o", "--output", metavar="FILE.html", help="default: report-session-ID.html")
    p.add_argument("--metric", choices=["lnrmssd", "hr", "hf", "pns", "resp"], default="lnrmssd")
    p.add_argument("--since", metavar="DATE")
    p.add_argument("--sessions", type=_session_ids, metavar="IDS")
    _add_correction(p, _RECOMPUTE_CORRECTION_HELP)
    _add_db(p)
    p.set_defaults(handler="biofeedback.cli.cmd_report:run")

    p = sub.add_parser("record", help="run a whole protocol headless and store the session")
    _add_source_options(p)
    _add_strap(p, "hr")
    _add_session_options(p)
    p.add_argument("--headless", action="store_true", help="no terminal UI (the default here)")
    p.set_defaults(handler="biofeedback.cli.cmd_record:run")

    p = sub.add_parser("monitor", help="the live dashboard for real use")
    _add_source_options(p)
    _add_strap(p, "hr")
    _add_session_options(p)
    p.set_defaults(handler="biofeedback.cli.cmd_monitor:run")

    p = sub.add_parser("demo", help="the main job: simulated strap, responder profile, dashboard")
    _add_source_options(p, device=False)
    _add_strap(p, "h10")
    p.add_argument("--headless", action="store_true", help="no terminal UI; print a summary")
    p.add_argument(
        "--db", metavar="PATH", help="session store (default: BIOFEEDBACK_DB or user data)"
    )
    p.add_argument("--json", action="store_true", help="the summary as JSON (with --headless)")
    _add_artifact_method(p)
    _add_correction(p, _LIVE_CORRECTION_HELP)
    p.set_defaults(handler="biofeedback.cli.cmd_demo:run", simulate="sim")
    return parser


def _detrend(text: str) -> tuple[str, float]:
    """``none`` or ``smoothness-priors[:LAMBDA]`` -> (method, lambda)."""
    name, _, value = text.partition(":")
    if name == "none" and not value:
        return ("none", 500.0)
    if name != "smoothness-priors":
        raise argparse.ArgumentTypeError("expected none or smoothness-priors[:LAMBDA]")
    try:
        lambda_ = float(value) if value else 500.0
    except ValueError:
        raise argparse.ArgumentTypeError(f"LAMBDA must be a number, got {value!r}") from None
    if not lambda_ > 0 or lambda_ == float("inf"):
        raise argparse.ArgumentTypeError(f"LAMBDA must be positive and finite, got {value!r}")
    return ("smoothness_priors", lambda_)


def _add_correction(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--correction", choices=CORRECTION_CHOICES, help=what)


_LIVE_CORRECTION_HELP = (
    "artifact correction of the live processor, stored with the session: automatic (default), "
    "robust, none or a Kubios threshold level (labelled 5 beats late: README, artifacts)"
)
_RECOMPUTE_CORRECTION_HELP = (
    "recompute with this artifact correction (default: the one stored with each session)"
)


def _add_artifact_method(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--artifact-method",
        choices=["published", "robust"],
        default="published",
        help="RR artifact detection: Lipponen & Tarvainen 2019 as published (default), or "
        "robust to sustained ectopy such as bigeminy (README, 'HRV methods', sustained ectopy)",
    )


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db", metavar="PATH", help="session store (default: BIOFEEDBACK_DB or user data)"
    )


def _add_session_options(p: argparse.ArgumentParser) -> None:
    _add_artifact_method(p)
    _add_correction(p, _LIVE_CORRECTION_HELP)
    p.add_argument("--protocol", default="default", help="protocol name or TOML file")
    p.add_argument("--player", choices=["mpv", "manual", "none"], default="manual")
    p.add_argument("--silent", action="store_true", help="mpv without audio/video output")
    p.add_argument(
        "--db", metavar="PATH", help="session store (default: BIOFEEDBACK_DB or user data)"
    )
    p.add_argument("--no-record", action="store_true", help="watch without storing")
    p.add_argument("--json", action="store_true", help="the summary as JSON")


_ARTIFACT_HELP = (
    "artifact rates, e.g. ectopic=0.01,missed=0.005,extra=0.005 (per beat), "
    "contact_loss_per_h=2,disconnects_per_h=1,malformed=0.01 (per packet)"
)


def _resolve(spec: str) -> Handler:
    module, _, name = spec.partition(":")
    handler: Handler = getattr(importlib.import_module(module), name)
    return handler


def _say(command: str, message: object) -> None:
    """The one-line error: control characters and newlines in a message (a file name, a
    label) are shown escaped, so it stays one line and cannot drive the terminal."""
    from biofeedback.text import terminal_safe

    print(f"biofeedback {command}: {terminal_safe(message)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if "numpy" not in sys.modules:
        # numpy's and scipy's OpenBLAS each start a busy thread per core when imported; the
        # maths here is sequential (banded LAPACK, FFTs, small products), so one thread saves
        # about 0.2 s of CPU per run on a 2-core machine (results unchanged). A user's setting wins.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from biofeedback.errors import BiofeedbackError, InputError
    from devices.errors import DeviceError, ProfileError

    try:
        return _resolve(args.handler)(args)
    except (InputError, ProfileError) as exc:
        _say(args.command, exc)
        return EXIT_BAD_INPUT
    except (BiofeedbackError, DeviceError) as exc:
        _say(args.command, exc)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        _say(args.command, "interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except sqlite3.Error as exc:
        # Reached only when the store fails mid-command (another process holding the write
        # lock, damage found after opening, a full disk): one line; what was recorded stays.
        from biofeedback.sessions.store_schema import is_busy, locked_message

        db = getattr(args, "db", None) or "the session store"
        _say(args.command, locked_message(db) if is_busy(exc) else f"the store failed: {exc}")
        return EXIT_FAILURE
