"""The capacity simulator: a purpose-built discrete-event engine of the ESSENCE pathway.

numpy and Python, the event loop compiled with numba (no Prefect, no SQL); validated against
queueing theory in the tests.
"""
