"""Tables that fit the terminal: at 80 columns a figure is never cut to ``4.3…`` or wrapped.

``fit_table`` keeps a Rich table as it is when it fits; when it does not, it switches to a
plain layout (no borders, one space between columns, figures never wrapped), then drops the
columns the caller marked optional, last first. The full figures stay in ``--json``.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

__all__ = ["fit_table"]

_UNLIMITED = 10_000


def _needed(table: Table, console: Console, options: ConsoleOptions) -> int:
    return Measurement.get(console, options.update_width(_UNLIMITED), table).maximum


def fit_table(
    table: Table,
    console: Console,
    options: ConsoleOptions | None = None,
    *,
    optional: Sequence[str] = (),
) -> Table:
    """``table`` made to fit ``options.max_width`` (the console's width by default); changes
    the table in place and returns it."""
    options = options or console.options
    width = options.max_width
    if table.title is not None:
        # A title is wrapped to the table's width: let the table be as wide as its title
        # (up to the terminal), so a narrow table does not break its title over lines.
        title = Text.from_markup(table.title) if isinstance(table.title, str) else table.title
        table.min_width = min(width, max(table.min_width or 0, console.measure(title).maximum))
    if _needed(table, console, options) <= width:
        return table
    table.box = None
    table.show_edge = False
    table.pad_edge = False
    table.padding = (0, 1, 0, 0)  # one space between columns
    table.show_header = True
    for column in table.columns:
        column.no_wrap = True  # a figure reads whole or not at all: drop columns instead
    for name in reversed(list(optional)):
        if _needed(table, console, options) <= width:
            break
        table.columns[:] = [c for c in table.columns if str(c.header) != name]
        # Rich pads a column by its position (none after the last): renumber the ones left,
        # or the column now last but one loses its padding and its figures are cut.
        for index, column in enumerate(table.columns):
            column._index = index
    return table
