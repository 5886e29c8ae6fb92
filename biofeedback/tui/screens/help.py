"""Help: every key binding, generated from the screens' and the app's ``BINDINGS``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from biofeedback.tui.format import NOT_MEDICAL

_KEY_NAMES = {"question_mark": "?", "space": "space", "escape": "esc", "enter": "enter"}


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


class HelpScreen(ModalScreen[None]):
    """A modal table of the key bindings; any of its own keys closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close help", show=False),
    ]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, description in self.rows:
            table.add_row(key, description)
        with Vertical(id="help-box"):
            yield Static(table)
            yield Static(f"esc closes. {NOT_MEDICAL}", id="help-note")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "keys"
