"""The analyst web console, served by `jointwatch serve` under /console: sign-in, screening, decisions,
sharing and requests.

Server-rendered pages (Jinja2, vendored htmx) over the same library calls as the API and the CLI.

    from jointwatch.api import create_app
    from jointwatch.web import mount_console
    app = mount_console(create_app(engine))

Users belong to members and hold one of the API's roles (``RIGHTS`` decide what each may do);
their passwords are kept as scrypt hashes (``hash_password``), set by an admin with
`jointwatch console users …`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jointwatch.web.passwords import MIN_LENGTH, check_new_password, hash_password, verify_password

if TYPE_CHECKING:
    from jointwatch.web.app import mount_console


def __getattr__(name: str) -> Any:
    # the console's pages (FastAPI, Jinja2, the whole API) load only when served: `jointwatch console
    # users add` needs the password rules alone, and every command's start pays for what it imports
    if name == "mount_console":
        from jointwatch.web.app import mount_console  # noqa: PLC0415

        return mount_console
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "MIN_LENGTH",
    "check_new_password",
    "hash_password",
    "mount_console",
    "verify_password",
]
