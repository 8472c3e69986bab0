"""essence: one coordinated ESSENCE assessment per child instead of five referrals.

The package models each child's assessment as a pathway of profession steps, schedules
one combined investigation and measures lead time against the 20-week baseline.
"""

__version__ = "0.1.0"
