"""Benchmarks of the platform against raw ceilings and the ``eventsourcing`` library.

Run ``python -m bench.run`` (``make bench``); ``--quick`` for a smoke run, ``--help``
for the options. Nothing here is imported by the services.
"""
