"""The rules a definition keeps by itself, and what the capabilities refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from talia_core.assistants.capabilities import Capabilities
from talia_core.assistants.definition import (
    MAX_INSTRUCTIONS_LENGTH,
    MAX_LISTED,
    Assistant,
    Channel,
    Definition,
    Fallback,
    FallbackKind,
    Provider,
)
from talia_core.assistants.language import PromptRef
from talia_core.shared.errors import RuleViolated

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CAPABILITIES = Capabilities(
    tools=frozenset({"handoff_to_human", "catalog_prices"}),
    models={"openai": ["gpt-4.1-mini"], "huggingface": ["Qwen/Qwen2.5-7B-Instruct"]},
)


def _definition(**fields: Any) -> Definition:
    values: dict[str, Any] = {
        "provider": "openai",
        "model": "gpt-4.1-mini",
        "instructions": "Answer politely.",
        **fields,
    }
    return Definition(**values)


def _refused(field: str, **fields: Any) -> None:
    with pytest.raises(RuleViolated) as refused:
        _definition(**fields)
    assert field in refused.value.fields


def test_a_definition_takes_the_names_of_its_provider_and_channels() -> None:
    definition = _definition(channels=["webchat", "whatsapp"], tools=["catalog_prices"])

    assert definition.provider is Provider.OPENAI
    assert definition.channels == (Channel.WEBCHAT, Channel.WHATSAPP)
    assert definition.tools == ("catalog_prices",)
    assert definition.fallback == Fallback(FallbackKind.HUMAN)


@pytest.mark.parametrize(
    ("field", "fields"),
    [
        pytest.param("provider", {"provider": "anthropic"}, id="unknown-provider"),
        pytest.param("model", {"model": "  "}, id="blank-model"),
        pytest.param("instructions", {"instructions": None}, id="neither-text-nor-prompt"),
        pytest.param(
            "instructions", {"instructions": "x" * (MAX_INSTRUCTIONS_LENGTH + 1)}, id="too-long"
        ),
        pytest.param(
            "prompt", {"provider": "offline", "prompt": PromptRef("pmpt_1")}, id="prompt-offline"
        ),
        pytest.param("prompt.id", {"prompt": PromptRef(" ")}, id="blank-prompt-id"),
        pytest.param("temperature", {"temperature": 2.01}, id="too-hot"),
        pytest.param("temperature", {"temperature": -0.1}, id="below-zero"),
        pytest.param("max_output_tokens", {"max_output_tokens": 0}, id="no-tokens"),
        pytest.param("max_tool_steps", {"max_tool_steps": 0}, id="no-steps"),
        pytest.param("tools", {"tools": ["Catalog Prices"]}, id="tool-name"),
        pytest.param("tools", {"tools": ["catalog_prices"] * 2}, id="tool-twice"),
        pytest.param("handoffs", {"handoffs": [f"a{i}" for i in range(MAX_LISTED + 1)]}, id="many"),
        pytest.param("knowledge", {"knowledge": ["Price List"]}, id="collection-not-slug"),
        pytest.param("channels", {"channels": ["fax"]}, id="unknown-channel"),
        pytest.param("channels", {"channels": ["webchat", "webchat"]}, id="channel-twice"),
        pytest.param("variables", {"variables": {"1st": "x"}}, id="variable-name"),
        pytest.param("variables.hours", {"variables": {"hours": ""}}, id="blank-variable"),
        pytest.param(
            "fallback",
            {"fallback": Fallback(FallbackKind.MODEL, "openai", "gpt-4.1-mini")},
            id="own",
        ),
    ],
)
def test_a_definition_breaking_a_rule_is_refused_naming_the_field(
    field: str, fields: dict[str, Any]
) -> None:
    _refused(field, **fields)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        pytest.param(("human", "openai", "gpt-4.1"), "provider or model given", id="person"),
        pytest.param(("model", "offline", "rules"), "needs provider and model", id="offline"),
        pytest.param(("model", "openai", None), "needs provider and model", id="no-model"),
    ],
)
def test_a_fallback_names_a_model_only_when_it_falls_back_to_one(
    fields: tuple[str, str, str | None], reason: str
) -> None:
    to, provider, model = fields
    with pytest.raises(RuleViolated) as refused:
        Fallback(FallbackKind(to), provider, model)

    assert refused.value.fields == {"fallback": reason}


def test_a_disabled_definition_is_the_entry_of_no_channel() -> None:
    definition = _definition(channels=["whatsapp"], enabled=False)

    assert definition.channels == (Channel.WHATSAPP,)
    assert definition.entry_channels == ()


def test_a_revised_definition_keeps_what_is_not_changed_and_checks_the_rest() -> None:
    definition = _definition(temperature=0.2, tools=["catalog_prices"])

    revised = definition.revised({"temperature": 1.0})

    assert revised == attrs.evolve(definition, temperature=1.0)
    with pytest.raises(RuleViolated):
        definition.revised({"temperature": 9})
    with pytest.raises(RuleViolated) as unknown:
        definition.revised({"colour": "blue"})
    assert unknown.value.fields == {"colour": "unknown"}


def test_an_assistant_name_is_a_slug_and_not_its_own_hand_off_target() -> None:
    with pytest.raises(RuleViolated) as not_slug:
        Assistant.create(name="Front Desk", definition=_definition(), by="u", at=T0)
    with pytest.raises(RuleViolated) as itself:
        Assistant.create(
            name="front-desk", definition=_definition(handoffs=["front-desk"]), by="u", at=T0
        )

    assert not_slug.value.fields == {"name": "not a slug"}
    assert itself.value.fields == {"handoffs": "itself"}


@pytest.mark.parametrize(
    ("field", "fields"),
    [
        pytest.param("provider", {"provider": "offline", "model": "rules"}, id="unavailable"),
        pytest.param("model", {"model": "gpt-0"}, id="unknown-model"),
        pytest.param("tools", {"tools": ["send_money"]}, id="unknown-tool"),
        pytest.param(
            "fallback.model",
            {"fallback": Fallback(FallbackKind.MODEL, "huggingface", "gpt-4.1-mini")},
            id="fallback-model",
        ),
    ],
)
def test_capabilities_refuse_what_is_not_offered_naming_the_field(
    field: str, fields: dict[str, Any]
) -> None:
    with pytest.raises(RuleViolated) as refused:
        CAPABILITIES.check(_definition(**fields))

    assert field in refused.value.fields


def test_capabilities_accept_what_they_offer() -> None:
    fallback = Fallback(FallbackKind.MODEL, "huggingface", "Qwen/Qwen2.5-7B-Instruct")

    CAPABILITIES.check(_definition(tools=["catalog_prices"], fallback=fallback))
