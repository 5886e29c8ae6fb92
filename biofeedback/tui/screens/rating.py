"""The self-report after a trigger block: relaxation and tingles, each 0-10, or skipped.

ASMR studies pair physiology with self-report (FACTS §1.1); the protocol asks for it with
``RatingRequested`` and the pipeline stores the answer as a marker. The modal covers only part
of the screen: the live monitor goes on updating behind it.
"""

from __future__ import annotations

from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.validation import Function
from textual.widgets import Input, Label, Static

RATING_MAX: Final = 10
QUESTIONS: Final = (("relaxation", "relaxation 0–10"), ("tingles", "tingles 0–10"))
"""``(input id, label)`` of each question, in the order they are asked."""


def parse_rating(text: str) -> int | None:
    """A whole number 0-10 typed by a person, else ``None``.

    >>> parse_rating(" 7"), parse_rating("10"), parse_rating("11"), parse_rating("x")
    (7, 10, None, None)
    """
    text = text.strip()
    if not text.isdecimal():
        return None
    value = int(text)
    return value if 0 <= value <= RATING_MAX else None


def rating_error(name: str, text: str) -> str:
    """What to tell a person whose answer was refused.

    >>> rating_error("tingles", "11")
    'tingles: "11" is not a whole number from 0 to 10'
    >>> rating_error("relaxation", " ")
    'relaxation: type a whole number from 0 to 10'
    """
    text = text.strip()
    if not text:
        return f"{name}: type a whole number from 0 to {RATING_MAX}"
    return f'{name}: "{text}" is not a whole number from 0 to {RATING_MAX}'


Ratings = tuple[int, int]
"""``(relaxation, tingles)``."""


class RatingScreen(ModalScreen[Ratings | None]):
    """Dismisses with the two ratings on enter, with ``None`` on escape (skipped)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "skip", "Skip")]

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def compose(self) -> ComposeResult:
        valid = Function(lambda text: parse_rating(text) is not None)
        with Vertical(id="rating-box"):
            yield Static(f"How was {self.label}? 0 = not at all, 10 = completely.")
            for name, question in QUESTIONS:
                yield Label(question)
                yield Input(placeholder="0–10", id=name, validators=[valid], max_length=3)
            yield Static("", id="rating-error")
            yield Static("enter: next / submit    esc: skip", id="rating-keys")

    def on_mount(self) -> None:
        self.query_one("#rating-box").border_title = f"self-report: {self.label}"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        names = [name for name, _ in QUESTIONS]
        submitted = names.index(event.input.id or names[0])
        values: list[int] = []
        for i, name in enumerate(names):
            field = self.query_one(f"#{name}", Input)
            value = parse_rating(field.value)
            if value is None:
                # An empty question after the one just answered is simply next, not an error.
                moving_on = i > submitted and not field.value.strip()
                message = "" if moving_on else rating_error(name, field.value)
                self.query_one("#rating-error", Static).update(message)
                field.focus()
                return
            values.append(value)
        self.dismiss((values[0], values[1]))

    def action_skip(self) -> None:
        self.dismiss(None)
