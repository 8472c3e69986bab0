"""Thin Prefect flows around essence's services (intake, advance, daily sweep, capacity).

Importing this package makes Prefect quiet by default (WARNING logs, analytics off) unless
the environment says otherwise; the durable state of a case lives in essence's database.
"""

import os

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
