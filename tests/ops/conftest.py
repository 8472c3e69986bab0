"""The operations tests reuse the web tests' fixtures (cheap argon2, the app on a database)."""

from tests.web.conftest import cheap_password_hashes, sqlite_web, web  # noqa: F401
