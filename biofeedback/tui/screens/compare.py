"""The compare screen: which triggers relax me, across the recorded sessions.

The same table as ``biofeedback compare`` and a forest plot of it. The comparison is computed
outside the UI (an injected :data:`~biofeedback.tui.protocols.CompareFn`, the analysis layer's
statistics) in a worker thread, because it reads every recorded session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Final

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState

from biofeedback.tui.forest import ForestData, forest_caption
from biofeedback.tui.format import NOT_MEDICAL
from biofeedback.tui.protocols import CompareFn
from biofeedback.tui.widgets import ForestPlot

if TYPE_CHECKING:
    from biofeedback.analysis.view import CompareView

COMPARE_METRICS: Final = ("lnrmssd", "hr", "hf", "pns")
"""The metrics ``m`` cycles through, in this order."""


def next_metric(metric_key: str) -> str:
    """The metric after ``metric_key`` in :data:`COMPARE_METRICS` (wrapping around).

    >>> next_metric("lnrmssd"), next_metric("pns")
    ('hr', 'lnrmssd')
    """
    i = COMPARE_METRICS.index(metric_key) if metric_key in COMPARE_METRICS else -1
    return COMPARE_METRICS[(i + 1) % len(COMPARE_METRICS)]


def warning_lines(view: CompareView) -> list[str]:
    """The comparison's warnings, one line each (none: an empty list).

    >>> from biofeedback.analysis.view import CompareView
    >>> warning_lines(CompareView("t", "SD", (), (), (), 0.1, ("order never varied",)))
    ['⚠ order never varied']
    """
    return [f"⚠ {w}" for w in view.warnings]


class CompareScreen(Screen[None]):
    """The trigger comparison for one metric at a time; ``m`` switches, esc goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("m", "switch_metric", "Switch metric"),
        Binding("f5", "reload", "Recompute"),
    ]

    def __init__(self, compute: CompareFn, metric_key: str = COMPARE_METRICS[0]) -> None:
        super().__init__()
        self.compute = compute
        self.metric_key = metric_key
        self.view: CompareView | None = None
        self._computing = False

    @property
    def computing(self) -> bool:
        """Whether a comparison is being computed (tests wait on it instead of sleeping)."""
        return self._computing

    def compose(self) -> ComposeResult:
        yield Static(id="compare-title")
        yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
        yield ForestPlot("", id="forest")
        yield Static(id="compare-warnings")
        yield Static(NOT_MEDICAL, id="disclaimer")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_switch_metric(self) -> None:
        self.metric_key = next_metric(self.metric_key)
        self.action_reload()

    def action_reload(self) -> None:
        self._computing = True
        self.view = None
        self.query_one("#compare-title", Static).update(
            f"Comparing triggers across the recorded sessions ({self.metric_key}): computing…"
        )
        self.query_one(DataTable).clear(columns=True)
        forest = self.query_one(ForestPlot)
        forest.placeholder = "computing…"
        forest.data = None
        forest.border_title = "forest plot"
        self.query_one("#compare-warnings", Static).update("")
        self._compare(self.metric_key)

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _compare(self, metric_key: str) -> tuple[str, CompareView]:
        return metric_key, self.compute(metric_key)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "compare":
            return
        if event.state is WorkerState.SUCCESS and isinstance(worker.result, tuple):
            metric_key, view = worker.result
            if metric_key == self.metric_key:
                self._show(view)
        elif event.state is WorkerState.ERROR:
            self._computing = False
            message = f"cannot compare: {worker.error}"
            self.query_one("#compare-title", Static).update(message)
            self.query_one(ForestPlot).placeholder = message
            self.query_one(ForestPlot).refresh()

    def _show(self, view: CompareView) -> None:
        self._computing = False
        self.view = view
        # One line under the title: what the effects are against, how many sessions and tests.
        basis = f"\n{view.basis}" if view.basis else ""
        self.query_one("#compare-title", Static).update(view.title + basis)
        table: DataTable[str] = self.query_one(DataTable)
        table.add_columns(*view.columns)
        for i, row in enumerate(view.rows):
            table.add_row(*row, key=str(i))
        forest = self.query_one(ForestPlot)
        data = ForestData(view.forest, view.swc, view.unit)
        forest.border_title = forest_caption(data)
        forest.placeholder = "no trigger blocks in the recorded sessions"
        forest.data = data if view.forest else None
        self.query_one("#compare-warnings", Static).update("\n".join(warning_lines(view)))
