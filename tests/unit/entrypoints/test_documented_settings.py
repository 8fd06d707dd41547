"""Every setting is documented in .env.example and the README, with the same default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from entrypoints.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


def _variables(model: type[BaseModel], prefix: str = "TALIA_") -> Iterator[tuple[str, Any]]:
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from _variables(field.annotation, f"{prefix}{name.upper()}__")
        else:
            yield f"{prefix}{name.upper()}", field.get_default(call_default_factory=True)


def _example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return dict(pairs)


def _as_env(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[]" if not value else str(value)
    return str(getattr(value, "value", value))


def test_env_example_lists_every_setting_with_its_default() -> None:
    expected = {name: _as_env(default) for name, default in _variables(Settings)}
    assert _example() == expected


def test_readme_names_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name, _ in _variables(Settings) if f"`{name}`" not in readme]
    assert missing == []


def test_the_example_file_is_valid_configuration() -> None:
    Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
