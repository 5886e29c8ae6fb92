"""The device picker: scan for heart-rate straps and choose one."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from biofeedback.errors import BiofeedbackError
from biofeedback.tui.protocols import ScanFn, StrapFound


def strap_label(strap: StrapFound) -> str:
    """One line per strap: name, address, signal strength.

    >>> strap_label(("Polar H10", "C7:00:00:00:00:01", -61))
    'Polar H10  C7:00:00:00:00:01  -61 dBm'
    """
    name, address, rssi_dbm = strap
    return f"{name or '(unnamed)'}  {address}  {rssi_dbm} dBm"


class DevicePickerScreen(ModalScreen[StrapFound | None]):
    """Scans on open (and on ``r``); enter chooses, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("r", "rescan", "Scan again"),
    ]

    def __init__(self, scan: ScanFn) -> None:
        super().__init__()
        self.scan = scan
        self.found: list[StrapFound] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box"):
            yield Static("Scanning for heart-rate straps…", id="picker-status")
            yield OptionList(id="straps")

    def on_mount(self) -> None:
        self.query_one("#picker-box").border_title = "choose a strap"
        self.action_rescan()

    @work(exclusive=True, group="scan")
    async def action_rescan(self) -> None:
        status = self.query_one("#picker-status", Static)
        status.update("Scanning for heart-rate straps…")
        options = self.query_one(OptionList)
        options.clear_options()
        try:
            self.found = await self.scan()
        except BiofeedbackError as exc:
            status.update(f"Scan failed: {exc}")
            return
        options.add_options([Option(strap_label(s), id=str(i)) for i, s in enumerate(self.found)])
        if self.found:
            options.highlighted = 0
            options.focus()
        status.update(
            f"{len(self.found)} strap(s) found: enter chooses, r scans again, esc cancels."
            if self.found
            else "No strap found: wet the electrodes, put it on, press r to scan again."
        )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.found[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
