"""The capacity simulator: a purpose-built discrete-event engine of the ESSENCE pathway.

Pure numpy and Python (no Prefect, no SQL); validated against queueing theory in the tests.
"""
