"""The end of a session: each block's change from the baseline, and what one session can say."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from biofeedback.live.summary import summary_lines


class SummaryScreen(ModalScreen[None]):
    """The session summary the headless ``record`` prints; ``c`` opens the comparison."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close the summary"),
        Binding("c", "compare", "Compare triggers across sessions"),
    ]

    def __init__(self, summary: dict[str, Any]) -> None:
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="summary-box"):
            yield Static("\n".join(summary_lines(self.summary)), id="summary-text")
            yield Static("c compares triggers across sessions · esc closes", id="summary-keys")

    def on_mount(self) -> None:
        self.query_one("#summary-box").border_title = "session summary"

    async def action_compare(self) -> None:
        self.dismiss()
        await self.app.run_action("compare")
