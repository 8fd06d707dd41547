"""The resilience runner on hyx, a proxy that routes an adapter through it, and the board."""

from adapters.resilience.board import BreakerBoard
from adapters.resilience.proxy import resilient
from adapters.resilience.runner import HyxResilienceRunner

__all__ = ["BreakerBoard", "HyxResilienceRunner", "resilient"]
