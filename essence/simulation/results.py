"""What one replication of one policy produces: per-child cohort arrays and per-profession load.

Plain numpy arrays and numbers, so results pickle cheaply between processes and Dask workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ReplicationResult:
    """One replication of one policy.

    Cohort arrays hold one entry per child referred in the scored window (after warm-up).

    Attributes:
        policy: Policy name.
        replication: Replication index.
        lead_days: Referral to feedback meeting, days (censored ones: to the end of the run).
        completed: True when the feedback meeting was held before the run ended.
        municipality: Municipality index per child.
        boy: True for a boy.
        age_band: Age band index per child.
        visit_days: Distinct days the family came to an in-person appointment.
        family_km: Road km the family travelled.
        staff_km: Road km staff travelled for this child.
        queue_wait_days: Days the child's steps spent waiting for a free staff member.
        utilisation: Busy share of available clinical minutes, per profession.
        pool_utilisation: The same per team and profession (team-major, flattened).
        queue_length: Time-average number of waiting steps, per profession.
        arrived: Children referred until the run stopped.
        finished: Children who completed every step.
        in_system: Children still somewhere in the pathway at the end (counted separately).
        events: Events processed.
        end_day: Day the run stopped.
    """

    policy: str
    replication: int
    lead_days: np.ndarray
    completed: np.ndarray
    municipality: np.ndarray
    boy: np.ndarray
    age_band: np.ndarray
    visit_days: np.ndarray
    family_km: np.ndarray
    staff_km: np.ndarray
    queue_wait_days: np.ndarray
    utilisation: np.ndarray
    pool_utilisation: np.ndarray
    queue_length: np.ndarray
    arrived: int
    finished: int
    in_system: int
    events: int
    end_day: float
