"""Print freshly issued passwords once, to the terminal of whoever created the logins.

Only argon2 hashes are stored; a password not written down now cannot be shown again.
"""

from __future__ import annotations


def print_new_passwords(passwords: dict[str, str], *, to_stderr: bool = False) -> None:
    """Show login ids and their new passwords in a table, with a warning (nothing if empty).

    Args:
        passwords: Login id → password.
        to_stderr: Print on stderr (when stdout carries JSON for a script).
    """
    if not passwords:
        return
    from rich.table import Table

    from essence.cli.render import console as stdout_console
    from essence.cli.render import error_console

    console = error_console if to_stderr else stdout_console

    table = Table(title="New passwords (shown once)")
    table.add_column("login")
    table.add_column("password")
    for user_id, password in sorted(passwords.items()):
        table.add_row(user_id, password)
    console.print(table)
    console.print(
        "[bold yellow]Write these down now:[/] only their hashes are stored, so they cannot "
        "be shown again (an admin can set a new one)."
    )
