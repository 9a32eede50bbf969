"""The LLM question parser: an OpenAI-compatible chat model fills the ``QuerySpec`` through a
forced tool call (function arguments = the QuerySpec JSON schema).

Works with OpenAI and with local OpenAI-compatible servers (Ollama, vLLM, llama.cpp) through
``OPENAI_BASE_URL``. One timeout per call (``FLOATCHAT_LLM_TIMEOUT_S``), one repair round trip
when the arguments are not valid JSON or fail validation, and on any failure — timeout, 429,
5xx, no tool call, invalid twice — the rule-based parser's result. The model never writes SQL:
its output only becomes a validated ``QuerySpec``, whose region names are resolved again.
"""
from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..config import Settings, get_settings
from .parser import MAX_QUESTION_CHARS, Resolver, _reference, parse_rules, resolve_spec
from .spec import INTENTS, PARAMETER_NAMES, Clarification, QuerySpec, spec_json_schema

log = logging.getLogger(__name__)

TOOL_NAME = "query_spec"
PROMPTS = Path(__file__).parent / "prompts"


@lru_cache(maxsize=4)
def _template(name: str):
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(PROMPTS), autoescape=False,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.get_template(name)


def tool_definition() -> dict:
    """The function the model must call: its parameters are the QuerySpec JSON schema."""
    return {"type": "function",
            "function": {"name": TOOL_NAME,
                         "description": "The query specification of the user's question about Argo float data.",
                         "parameters": spec_json_schema()}}


def system_prompt(reference_date, context: QuerySpec | None = None) -> str:
    """The system prompt (``prompts/parse.jinja2``)."""
    ctx = context.model_dump_json(exclude_defaults=True) if context is not None else ""
    return _template("parse.jinja2").render(tool_name=TOOL_NAME, intents=INTENTS, parameters=PARAMETER_NAMES,
                                            reference_date=reference_date or "unknown", context=ctx)


class LLMParseError(Exception):
    """Internal: the model's reply could not become a QuerySpec."""


def _arguments(reply) -> str:
    """The tool-call arguments of a chat completion (or JSON content from servers that answer in text)."""
    choice = reply.choices[0].message
    for call in choice.tool_calls or []:
        fn = getattr(call, "function", None)
        if fn is not None and fn.name == TOOL_NAME:
            return fn.arguments or ""
    content = (choice.content or "").strip()
    if content.startswith("```"):
        content = content.strip("`").removeprefix("json").strip()
    if content.startswith("{"):
        return content
    raise LLMParseError("the model did not call the query_spec function")


def _validate(arguments: str) -> QuerySpec:
    try:
        data = json.loads(arguments)
    except json.JSONDecodeError as e:
        raise LLMParseError(f"the arguments are not valid JSON ({e.msg} at character {e.pos})") from e
    if not isinstance(data, dict):
        raise LLMParseError("the arguments must be a JSON object")
    try:
        return QuerySpec.model_validate(data)
    except ValidationError as e:
        msgs = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors()[:5])
        raise LLMParseError(f"the arguments do not match the schema ({msgs})") from e


def parse_llm(question: Any, context: QuerySpec | None = None, *, reference_time=None,
              resolver: Resolver | None = None, settings: Settings | None = None) -> QuerySpec | Clarification:
    """Parse with the configured model; fall back to ``parse_rules`` on any failure.

    Same arguments and result as :func:`floatchat_core.chat.parser.parse_rules`. The fallback is
    logged (``chat.llm_fallback`` with the reason).
    """
    settings = settings or get_settings()
    text = str(question if question is not None else "").strip()

    def fallback(reason: str):
        log.warning("chat.llm_fallback reason=%s", reason)
        return parse_rules(question, context, reference_time=reference_time, resolver=resolver, settings=settings)

    if not text or len(text) > MAX_QUESTION_CHARS:         # nothing to send / not worth the tokens
        return fallback("empty or too long")
    try:
        import openai
    except ImportError:                                     # pragma: no cover - a dependency
        return fallback("openai not installed")

    ref = _reference(reference_time, settings)
    ref_date = ref() if callable(ref) else ref
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    client = openai.OpenAI(api_key=key, base_url=settings.openai_base_url or None,
                           timeout=settings.llm_timeout_s, max_retries=0)
    messages: list[dict] = [{"role": "system", "content": system_prompt(ref_date, context)},
                            {"role": "user", "content": text}]
    tools = [tool_definition()]
    for attempt in (1, 2):
        try:
            reply = client.chat.completions.create(
                model=settings.llm_model, messages=messages, tools=tools, temperature=0,
                tool_choice={"type": "function", "function": {"name": TOOL_NAME}})
        except openai.APITimeoutError:
            return fallback("timeout")
        except openai.RateLimitError:
            return fallback("rate limited (429)")
        except openai.APIStatusError as e:
            return fallback(f"HTTP {e.status_code}")
        except openai.APIError as e:                         # connection refused, bad response…
            return fallback(type(e).__name__)
        arguments = ""
        try:
            if not reply.choices:
                raise LLMParseError("the reply has no choices")
            arguments = _arguments(reply)
            spec = _validate(arguments)
        except LLMParseError as e:
            if attempt == 2:
                return fallback(f"invalid twice: {e}")
            log.info("chat.llm_repair error=%s", e)
            messages += [{"role": "assistant", "content": arguments},
                         {"role": "user", "content": f"That was not accepted: {e}. Call {TOOL_NAME} again with "
                                                     f"arguments that follow the schema exactly."}]
            continue
        log.info("chat.llm_parsed intent=%s attempt=%d", spec.intent, attempt)
        return resolve_spec(spec, text, resolver=resolver, settings=settings)
    return fallback("unreachable")                           # pragma: no cover


