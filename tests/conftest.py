"""Shared test configuration.

Under CI (the CI environment variable is set) hypothesis runs derandomised, so that a run is
reproducible from the commit alone; locally it explores new examples on every run.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
