"""What the operations figures need from persistence: counts, never case content."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime


class OpsQueries(ABC):
    """Aggregate counts for health and metrics (no personal data is read)."""

    @abstractmethod
    def cases_by_state(self) -> dict[str, int]:
        """Number of cases per case state."""

    @abstractmethod
    def steps_not_scheduled(self) -> int:
        """Steps of open cases still to be done (requested, ready, on hold) with no booking."""

    @abstractmethod
    def last_event(self, action: str) -> tuple[datetime, str] | None:
        """Time and detail of the newest audit event with this action, if any."""
