"""``ChatSession``: questions with memory, so follow-ups work.

    >>> chat = ChatSession()                                        # doctest: +SKIP
    >>> chat.ask("temperature at 1000 m in the Arabian Sea")        # doctest: +SKIP
    >>> chat.ask("now salinity")        # same place and depth      # doctest: +SKIP
    >>> chat.ask("zoom to the Bay of Bengal")                        # doctest: +SKIP
    >>> chat.ask("export that")                                      # doctest: +SKIP

The context is the last answered ``QuerySpec``; a clarification keeps it (so "the Arabian Sea"
after "which region?" still continues the question that asked).
"""
from __future__ import annotations

import logging
import time
from typing import Any

from ..config import Settings, get_settings
from .answer import Answer, clarification_answer
from .spec import Clarification, QuerySpec

log = logging.getLogger(__name__)


class ChatSession:
    """A conversation: ``ask`` answers and remembers; ``history`` holds ``(question, Answer)`` pairs.

    Parameters
    ----------
    settings
        Configuration (default: from the environment).
    reference_time
        "Now" for relative times (default: the newest profile in the database).
    resolver
        Region name → ``resolve_region`` result (default: the database's).
    max_history
        Answers kept in ``history``.
    """

    def __init__(self, settings: Settings | None = None, *, reference_time=None, resolver=None,
                 max_history: int = 50):
        self.settings = settings or get_settings()
        self.reference_time = reference_time
        self.resolver = resolver
        self.max_history = max_history
        self.history: list[tuple[str, Answer]] = []
        self.context: QuerySpec | None = None
        self._pending: QuerySpec | None = None      # what a clarification was about

    def parse(self, question: Any) -> QuerySpec | Clarification:
        """Parse in this conversation's context (no execution)."""
        from . import parse

        return parse(question, self.context or self._pending, reference_time=self.reference_time,
                     resolver=self.resolver, settings=self.settings)

    def ask(self, question: Any, parsed: QuerySpec | Clarification | None = None) -> Answer:
        """Answer ``question``; never raises for bad input or database trouble.

        ``parsed`` is this session's ``parse(question)`` when the caller already has it (a chat pane
        shows the parsed spec before querying): the question is then not parsed a second time.
        """
        from .executor import execute

        t0 = time.perf_counter()
        text = question if isinstance(question, str) else str(question if question is not None else "")
        try:
            parsed = self.parse(text) if parsed is None else parsed
        except Exception as e:                # a parser bug must not take the session down
            log.exception("chat.parse_failed")
            parsed = Clarification(question=f"I could not read that question ({type(e).__name__}). "
                                            "Could you rephrase it?", reason="invalid")
        if isinstance(parsed, Clarification):
            ans = clarification_answer(parsed, text)
            if parsed.partial is not None:
                self._pending = parsed.partial
            ans.provenance["elapsed_ms"] = round((time.perf_counter() - t0) * 1000.0, 1)
        else:
            ans = execute(parsed, settings=self.settings, question=text)
            if ans.clarification is None:
                self.context, self._pending = parsed, None
            ans.provenance["elapsed_ms"] = round((time.perf_counter() - t0) * 1000.0, 1)
        self.history.append((text, ans))
        del self.history[:-self.max_history]
        return ans

    def reset(self) -> None:
        """Forget the conversation."""
        self.history.clear()
        self.context = self._pending = None
