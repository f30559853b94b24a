"""Storage errors, raised at the adapter boundary with messages a user can act on.

StorageError
├── EmbeddedServerError   an embedded PostgreSQL or Redis could not start or stop
└── MigrationError        a migration failed or an applied one was edited
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of the storage errors."""


class EmbeddedServerError(StorageError):
    """An embedded server could not be started, reused or stopped; the message says why."""


class MigrationError(StorageError):
    """A migration failed, or an applied migration's file changed since it ran."""
