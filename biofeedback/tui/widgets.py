"""Thin widgets: a braille chart that draws a :class:`ChartData`, a forest plot that draws a
:class:`ForestData`, and a multi-line text panel."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from biofeedback.tui.chart import ChartData, chart_lines
from biofeedback.tui.forest import ForestData, forest_lines


class BrailleChart(Widget):
    """A line chart drawn in braille dots; redrawn only when :attr:`data` is replaced."""

    data: reactive[ChartData | None] = reactive(None, always_update=True)
    """What to draw; ``None`` shows :attr:`placeholder`."""

    def __init__(self, placeholder: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.placeholder = placeholder

    def render(self) -> RenderableType:
        if self.data is None or self.data.xs.size == 0:
            return Text(self.placeholder, style="dim")
        size = self.content_size
        return Group(*chart_lines(self.data, size.width, size.height))


class ForestPlot(Widget):
    """Each trigger's mean change with its interval, one row each, on a shared axis."""

    data: reactive[ForestData | None] = reactive(None, always_update=True, layout=True)
    """What to draw; ``None`` shows :attr:`placeholder`."""

    def __init__(self, placeholder: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.placeholder = placeholder

    def render(self) -> RenderableType:
        if self.data is None or not self.data.points:
            return Text(self.placeholder, style="dim")
        return Group(*forest_lines(self.data, self.content_size.width))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """A row per trigger and the axis row (the plot's height does not depend on width)."""
        return len(self.data.points) + 1 if self.data is not None and self.data.points else 1


class Panel(Static):
    """A block of text lines, re-rendered only when the lines change."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._shown = ""

    def show_lines(self, lines: list[str]) -> None:
        """Show ``lines``; a no-op when they are what is already shown."""
        text = "\n".join(lines)
        if text != self._shown:
            self._shown = text
            self.update(Text(text))
