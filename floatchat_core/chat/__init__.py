"""The question engine: plain-language questions → ``QuerySpec`` → DAL calls → ``Answer``.

    >>> from floatchat_core.chat import ask, ChatSession
    >>> a = ask("how many profiles in the Arabian Sea in 2019")      # doctest: +SKIP
    >>> a.text, a.frame, a.sql                                       # doctest: +SKIP
    >>> chat = ChatSession(); chat.ask("temperature at 1000 m in the Indian Ocean")   # doctest: +SKIP
    >>> chat.ask("now salinity")                                     # doctest: +SKIP

Offline by default (the rule-based parser); with ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` set,
an OpenAI-compatible model fills the ``QuerySpec`` (falling back to the rules on any failure).
Importing this package is light: no database driver, no openai until a question is asked.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .spec import INTENTS, Clarification, QuerySpec, Region, Subset

if TYPE_CHECKING:
    from ..config import Settings
    from .answer import Answer
    from .session import ChatSession

__all__ = ["INTENTS", "Answer", "ChatSession", "Clarification", "QuerySpec", "Region", "Subset", "ask", "execute",
           "parse"]


def parse(question: Any, context: QuerySpec | None = None, *, reference_time=None, resolver=None,
          settings: Settings | None = None) -> QuerySpec | Clarification:
    """A question → ``QuerySpec`` (or ``Clarification`` when it should ask back).

    Uses the configured LLM when ``OPENAI_API_KEY``/``OPENAI_BASE_URL`` is set, else (and on
    any LLM failure) the rule-based parser. ``context`` is the previous spec, for follow-ups.
    """
    from ..config import get_settings

    settings = settings or get_settings()
    if settings.llm_configured:
        from .llm import parse_llm

        return parse_llm(question, context, reference_time=reference_time, resolver=resolver, settings=settings)
    from .parser import parse_rules

    return parse_rules(question, context, reference_time=reference_time, resolver=resolver, settings=settings)


def ask(question: Any, session: ChatSession | None = None, *, settings: Settings | None = None) -> Answer:
    """Answer a question (in ``session`` when given, so follow-ups work)."""
    from .session import ChatSession

    return (session or ChatSession(settings=settings)).ask(question)


def execute(spec: QuerySpec, *, settings: Settings | None = None, question: str = "") -> Answer:
    """Run a ``QuerySpec`` (bypassing the parser) and return its ``Answer``."""
    from .executor import execute as _execute

    return _execute(spec, settings=settings, question=question)


def __getattr__(name: str):
    if name == "Answer":
        from .answer import Answer

        return Answer
    if name == "ChatSession":
        from .session import ChatSession

        return ChatSession
    raise AttributeError(name)
