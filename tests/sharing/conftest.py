"""The service fixtures of tests/api (the real UN list per backend, one app each, members made per
test), for the sharing tests that go through the service or the CLI."""

from tests.api.conftest import app, client, new_member, store_of, un_store

__all__ = ["app", "client", "new_member", "store_of", "un_store"]
