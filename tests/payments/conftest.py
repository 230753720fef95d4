"""Payments tests reuse the screening tests' register (real UN list + OFAC SDN 2023-06-05) and the
API tests' service fixtures (SQLite, and PostgreSQL when given)."""

from tests.api.conftest import app, audit_of, client, new_member, store_of, un_store  # noqa: F401
from tests.screening.conftest import cache_dir, index, register, screener  # noqa: F401
