"""The service's routers, one per area."""
