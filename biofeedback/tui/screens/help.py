"""Help: what every number on the monitor means (two lines each, with its unit and window),
then every key binding, generated from the screens' and the app's ``BINDINGS``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Final

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from biofeedback.tui.format import NO_BEATS_AFTER_S, NOT_MEDICAL

_KEY_NAMES = {"question_mark": "?", "space": "space", "escape": "esc", "enter": "enter"}

NUMBERS: Final[tuple[tuple[str, str, str], ...]] = (
    (
        "Block so far",
        "lnRMSSD change from this session's baseline over the block so far (first 45 s left",
        "out); [low, high] = 95 % interval; m:ss = time analysed. 0 outside [ ] = a change.",
    ),
    (
        "  its interval",
        "From 15-s batch means with correlated (AR(1)) errors of baseline and block batches, so",
        "serial correlation and the baseline's own error count; wide when RR swings at 6/min.",
    ),
    (
        "  RMSSD %, HR",
        "The same change as % of RMSSD (e^Δ − 1), and the change of mean heart rate (bpm,",
        "60000 / mean RR) from the baseline with its 95 % interval, over the same batches.",
    ),
    (
        "Baseline m:ss of m:ss",
        "The baseline segment being recorded (settling is never part of it). Blocks after it",
        "are compared with it; it needs 6 valid 15-s batches (1:30) before any comparison.",
    ),
    (
        "Settling",
        "The first minutes, left out of every number: heart rate settles after sitting down",
        "and putting the strap on.",
    ),
    (
        "now 60 s: lnRMSSD",
        "The last 60 s alone. RMSSD (ms) = root mean square of successive RR differences, the",
        "vagal index; lnRMSSD = ln(RMSSD in ms). ± = 95 % agreement of 60 s vs 5 min.",
    ),
    (
        "now 60 s: HR",
        "Mean heart rate from RR over the last 60 s (bpm). The big number at the top left",
        "is the heart rate the strap itself reports (bpm), with the newest RR (ms).",
    ),
    (
        "PNS index (approx.)",
        "Mean z-score (SD) of mean RR, RMSSD and SD1 vs population norms, last 60 s: 0 =",
        "average adult at rest. Kubios's norms are unpublished, so this is an approximation.",
    ),
    (
        "Breathing /min",
        "Breaths per minute from the RR wave breathing makes (RSA peak), last 120 s.",
        "Ambiguous, '? 6/min: Mayer' = a 6/min peak (maybe the 0.1-Hz pressure wave) + a faster.",
    ),
    (
        "Breathing: chest",
        "With a Polar H10: breaths per minute from the chest's tilt (accelerometer), last",
        "60 s (shown from 30 s); ± = standard error. Independent of RSA and of the 0.1-Hz wave.",
    ),
    (
        "ECG strip",
        "With a Polar H10: its raw ECG (µV), last 5 s. ▼ = an R-peak the live detector found",
        "(Pan-Tompkins), reported 0.15 s after the peak or one 0.56-s ECG frame later.",
    ),
    (
        "ECG beats N, S, V, ?",
        "Beats since the start by QRS shape and timing: normal, supraventricular premature,",
        "ventricular, ? = not judged yet. ECG breathing = from R amplitudes, last 60 s.",
    ),
    (
        "corrected beats %",
        "Share of the last 60 s of beats flagged as artifact or ectopic and interpolated;",
        "above 5 % no 60-s value is shown. 'N beats in 60 s' is how many it holds.",
    ),
    (
        "correction",
        "Artifact correction in use (--correction): automatic = Lipponen–Tarvainen, robust =",
        "L–T + runs of ectopy, a Kubios threshold (ms at 60/min, scaled by HR), none = raw.",
    ),
    (
        "Irregular rhythm",
        "Sustained irregular RR (AF-like) is outside what HRV assumes: HRV withheld, red band",
        "on the tachogram, not artifacts. Not a diagnosis: if it recurs, ask a doctor.",
    ),
    (
        "Trend, relaxation SD",
        "Each 60-s lnRMSSD as a z-score vs the baseline windows (SD floored at 0.11 ln ms);",
        "one reading is uncertain by about ±2 SD: lead with the block line. m switches it.",
    ),
    (
        "RR tachogram",
        "Time between beats (RR, ms) over the last 180 s; the wave is breathing (RSA).",
        "Both charts' bottom axis is session time (m:ss); ✦ marks a tingle.",
    ),
    (
        "Shading",
        "Protocol segments by kind: settling grey, baseline blue, trigger purple, washout",
        "green, rating amber; a label cut with … had no room (all are in the summary).",
    ),
    (
        "Strap",
        f"Link state; 'no beats for N s' after {NO_BEATS_AFTER_S:.0f} s without one, 'stream"
        " ended'",
        "when nothing more comes. Battery (%); RSSI = radio signal strength (dBm).",
    ),
)
"""Every number on the monitor: ``(what, first line, second line)``."""


def key_label(key: str) -> str:
    """How a Textual key name is shown to a person.

    >>> key_label("question_mark"), key_label("r"), key_label("ctrl+q")
    ('?', 'r', 'ctrl+q')
    """
    return ", ".join(_KEY_NAMES.get(k, k) for k in key.split(","))


def help_rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """``(key, description)`` for every shown binding, in declaration order.

    >>> help_rows([Binding("r", "toggle_recording", "Record on/off")])
    [('r', 'Record on/off')]
    """
    rows = []
    for binding in bindings:
        if isinstance(binding, Binding) and binding.description:
            rows.append((key_label(binding.key), binding.description))
    return rows


def numbers_table() -> Table:
    """The numbers, two lines each."""
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for what, first, second in NUMBERS:
        table.add_row(what, Text(f"{first}\n{second}"))
    return table


def keys_table(rows: list[tuple[str, str]]) -> Table:
    """The keys, in two columns of pairs so they fit beside each other."""
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1, 0, 0))
    for _ in range(2):
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column(no_wrap=True)
    half = (len(rows) + 1) // 2
    for left, right in zip(rows[:half], [*rows[half:], ("", "")], strict=False):
        table.add_row(*left, *right)
    return table


class HelpScreen(ModalScreen[None]):
    """What each number means, then the key bindings; scrolls; any of its own keys closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close help", show=False),
    ]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static("What the numbers mean", classes="help-heading")
            yield Static(numbers_table(), id="help-numbers")
            yield Static("Keys", classes="help-heading")
            yield Static(keys_table(self.rows), id="help-keys")
            yield Static(f"↑↓ scroll · esc closes. {NOT_MEDICAL}", id="help-note")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "help"
