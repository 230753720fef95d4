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

from jointwatch.web.app import mount_console
from jointwatch.web.passwords import MIN_LENGTH, check_new_password, hash_password, verify_password

__all__ = [
    "MIN_LENGTH",
    "check_new_password",
    "hash_password",
    "mount_console",
    "verify_password",
]
