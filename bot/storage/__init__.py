"""Storage: one aiosqlite connection, numbered SQL migrations, one repository module per table group.

SQL lives only in this package, and only with parameters.
"""

from bot.storage.database import Database, MigrationError

__all__ = ["Database", "MigrationError"]
