"""``biofeedback``: the command line. Parsing is cheap; each command's work is imported lazily."""

from __future__ import annotations

import argparse
import importlib
import sqlite3
import sys
from collections.abc import Callable, Sequence
from typing import Final

from biofeedback import __version__

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_BAD_INPUT: Final = 2
EXIT_INTERRUPTED: Final = 130

NOT_MEDICAL: Final = "Not a medical device: for self-experiment and research, never for diagnosis."

Handler = Callable[[argparse.Namespace], int]


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


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
    p.add_argument("--seed", type=int, default=0, help="simulator seed (default 0)")
    p.add_argument("--speed", type=_positive_float, default=1.0, help="time acceleration (sim)")
    p.add_argument(
        "--segments",
        default="baseline:300,whispering:300,washout:60,tapping:300",
        help="simulated timeline as label:seconds,... (default: %(default)s)",
    )
    p.add_argument("--duration", type=_positive_float, metavar="S", help="stop after S seconds")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    p.add_argument("--artifacts", default="", metavar="K=V,...", help=_ARTIFACT_HELP)
    p.add_argument("--latency", type=float, default=0.0, metavar="S", help="max delivery delay")
    p.set_defaults(handler="biofeedback.cli.cmd_simulate:run", simulate="sim")

    p = sub.add_parser("stream", help="print live beats and heart rate (headless)")
    _add_source_options(p)
    p.add_argument("--json", action="store_true", help="one JSON object per event")
    p.add_argument("--artifacts", default="", metavar="K=V,...", help=_ARTIFACT_HELP)
    p.set_defaults(handler="biofeedback.cli.cmd_stream:run")

    p = sub.add_parser("scan", help="list nearby heart-rate straps (service 0x180D)")
    p.add_argument("--timeout", type=_positive_float, default=5.0, metavar="S")
    p.add_argument("--json", action="store_true")
    p.add_argument("--simulate", nargs="?", const="ble", choices=["ble"], help="scan the fake")
    p.set_defaults(handler="biofeedback.cli.cmd_scan:run")

    p = sub.add_parser("analyze", help="HRV of an RR file: whole record or sliding windows")
    p.add_argument("file", help="RR text (ms or s), CSV, Polar HRM, Elite HRV, session bundle")
    p.add_argument("--json", action="store_true", help="JSON (JSON lines for windows)")
    p.add_argument("--window", type=_positive_float, metavar="S", help="sliding window length")
    p.add_argument("--step", type=_positive_float, metavar="S", help="window step")
    p.add_argument("--method", choices=["welch", "lomb"], default="welch")
    _add_artifact_method(p)
    p.add_argument("--unit", choices=["ms", "s"], help="RR unit of a text file (default: detect)")
    p.set_defaults(handler="biofeedback.cli.cmd_analyze:run")

    p = sub.add_parser("sessions", help="list recorded sessions")
    p.add_argument("--json", action="store_true")
    _add_db(p)
    p.set_defaults(handler="biofeedback.cli.cmd_sessions:run_sessions")

    p = sub.add_parser("show", help="one session's details")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    _add_db(p)
    p.set_defaults(handler="biofeedback.cli.cmd_sessions:run_show")

    p = sub.add_parser("export", help="export a session: json bundle, csv, rr or kubios")
    p.add_argument("id", type=int)
    p.add_argument("--format", required=True, choices=["json", "csv", "rr", "kubios"])
    p.add_argument("--out", metavar="FILE", help="output file (default: standard output)")
    _add_db(p)
    p.set_defaults(handler="biofeedback.cli.cmd_sessions:run_export")

    p = sub.add_parser("import", help="import recordings: bundle, RR text, CSV, Polar HRM, Elite")
    p.add_argument("files", nargs="+", metavar="FILE")
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
    p.add_argument("id", type=int)
    p.add_argument("--yes", action="store_true", help="do not ask")
    _add_db(p)
    p.set_defaults(handler="biofeedback.cli.cmd_sessions:run_delete")

    p = sub.add_parser("compare", help="which triggers change my physiology, across sessions")
    p.add_argument("--metric", choices=["lnrmssd", "hr", "hf", "pns", "resp"], default="lnrmssd")
    p.add_argument(
        "--reference",
        choices=["baseline", "washout"],
        default="baseline",
        help="what a block's response is measured against (both are reported)",
    )
    p.add_argument("--since", metavar="DATE", help="only sessions from this day on (YYYY-MM-DD)")
    p.add_argument("--sessions", metavar="IDS", help="session ids, e.g. 3,5,8-10")
    p.add_argument("--json", action="store_true")
    _add_db(p)
    p.set_defaults(handler="biofeedback.cli.cmd_compare:run")

    p = sub.add_parser("report", help="a self-contained HTML report of a session or the comparison")
    p.add_argument("id", type=int, nargs="?", help="session id (or use --compare)")
    p.add_argument("--compare", action="store_true", help="the trigger comparison across sessions")
    p.add_argument("-o", "--output", metavar="FILE.html", help="default: report-session-ID.html")
    p.add_argument("--metric", choices=["lnrmssd", "hr", "hf", "pns", "resp"], default="lnrmssd")
    p.add_argument("--since", metavar="DATE")
    p.add_argument("--sessions", metavar="IDS")
    _add_db(p)
    p.set_defaults(handler="biofeedback.cli.cmd_report:run")

    p = sub.add_parser("record", help="run a whole protocol headless and store the session")
    _add_source_options(p)
    _add_session_options(p)
    p.add_argument("--headless", action="store_true", help="no terminal UI (the default here)")
    p.set_defaults(handler="biofeedback.cli.cmd_record:run")

    p = sub.add_parser("monitor", help="the live dashboard for real use")
    _add_source_options(p)
    _add_session_options(p)
    p.set_defaults(handler="biofeedback.cli.cmd_monitor:run")

    p = sub.add_parser("demo", help="the main job: simulated strap, responder profile, dashboard")
    _add_source_options(p, device=False)
    p.add_argument("--headless", action="store_true", help="no terminal UI; print a summary")
    p.add_argument(
        "--db", metavar="PATH", help="session store (default: BIOFEEDBACK_DB or user data)"
    )
    p.add_argument("--json", action="store_true", help="the summary as JSON (with --headless)")
    _add_artifact_method(p)
    p.set_defaults(handler="biofeedback.cli.cmd_demo:run", simulate="sim")
    return parser


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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from biofeedback.errors import BiofeedbackError, InputError
    from devices.errors import DeviceError, ProfileError

    try:
        return _resolve(args.handler)(args)
    except (InputError, ProfileError) as exc:
        print(f"biofeedback {args.command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (BiofeedbackError, DeviceError) as exc:
        print(f"biofeedback {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"biofeedback {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except sqlite3.Error as exc:
        # Reached only when the store fails mid-command (damage found after opening, a full
        # disk): one line, and what was recorded stays in the file.
        print(f"biofeedback {args.command}: the session store failed: {exc}", file=sys.stderr)
        return EXIT_FAILURE
