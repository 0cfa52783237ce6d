"""Clicks that act only after the widget updates sent before them, for every panel with buttons.

A panel (the review panel, the exchange-building panels) inherits :class:`ClickSafe`, calls
``_init_click_safe`` in its constructor, wraps its widget observers in ``_handled`` and its
buttons' actions in ``_on_click`` (see :func:`matchmaker.ui.pairs_grid.after_pending_updates`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from matchmaker.ui.pairs_grid import after_pending_updates


class ClickSafe:
    """Counts the widget updates being handled; runs a click's action after them (errors shown, not lost)."""

    def _init_click_safe(self, say: Callable[..., None], last_update: float = 0.0,
                         error_words: str = "Something went wrong, nothing more was changed by it") -> None:
        """Start counting; ``say(text, ok=False)`` shows an action's error as ``error_words: <error>``."""
        self._updates_lock = threading.Lock()
        self._busy, self._last_update = 0, last_update
        self._say_error, self._error_words = say, error_words

    def _handled(self, handler: Callable, *args) -> None:
        """Run a widget update's handler, counted as busy (see :func:`after_pending_updates`)."""
        with self._updates_lock:
            self._busy += 1
            self._last_update = time.monotonic()
        try:
            handler(*args)
        finally:
            with self._updates_lock:
                self._busy -= 1
                self._last_update = time.monotonic()

    def _update_state(self) -> tuple[int, float]:
        with self._updates_lock:
            return self._busy, self._last_update

    def _on_click(self, action: Callable[[], object]) -> None:
        """A button's action, after the updates sent before the click; errors shown, not lost."""
        def run():
            try:
                action()
            except Exception as exc:  # shown to the user, then raised for the server's log
                self._say_error(f"{self._error_words}: {exc}", ok=False)
                raise
        after_pending_updates(run, self._update_state)
