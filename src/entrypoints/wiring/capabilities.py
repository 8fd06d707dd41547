"""What assistant definitions may name, handed to ``AssistantAdmin`` by the container.

Data of the deployment, not of the core: the tools are those of the tool catalogue, the
models those each provider is known to serve here.
A definition naming anything else is refused with a 422 naming the field; serving a new
model is a line here.
"""

from __future__ import annotations

from talia_core.assistants.capabilities import Capabilities
from talia_core.assistants.tools import ToolCatalogue
from talia_core.leads.criteria import parse_criteria

MODELS = {
    "openai": (
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
    ),
    "huggingface": (
        "meta-llama/Llama-3.1-8B-Instruct",
        "meta-llama/Llama-3.3-70B-Instruct",
        "Qwen/Qwen2.5-7B-Instruct",
        "Qwen/Qwen2.5-72B-Instruct",
        "mistralai/Mistral-7B-Instruct-v0.3",
    ),
    # The offline assistant answers by the rules of its JSON definition (TALIA_ASSISTANT__*).
    "offline": ("rules",),
}

DEMO_MODELS = {
    "offline": "rules",
    "openai": "gpt-4.1-mini",
    "huggingface": "meta-llama/Llama-3.1-8B-Instruct",
}
"""The model the demo assistants answer with on each provider unless told another
(``TALIA_ASSISTANT__DEMO_MODEL``)."""


def assistant_capabilities(tools: ToolCatalogue) -> Capabilities:
    return Capabilities(tools=tools.names(), models=MODELS, lead_criteria=parse_criteria)
