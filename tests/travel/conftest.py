"""The real register (UN list and the OFAC SDN snapshot of 2023-06-05), shared with the screening tests."""

from tests.screening.conftest import index, register, screener  # noqa: F401 - pytest fixtures
