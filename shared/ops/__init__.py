"""The operator's tasks behind ``thidua`` (:mod:`shared.cli`): each module does one task and
returns plain data; the command line prints it as text or JSON and picks the exit code."""
