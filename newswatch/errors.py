"""Errors that stop a command. Each carries a message that says what to fix; the CLI prints it in one line."""

from __future__ import annotations


class NewswatchError(Exception):
    """Base: a problem the user must fix, with a message that says what and where."""


class ConfigError(NewswatchError):
    """sources.yaml (or another config file) is missing, unreadable or invalid."""


class StoreError(NewswatchError):
    """The database cannot be opened, migrated or written."""


class StoreBusyError(StoreError):
    """Another process held the database for longer than the bounded wait."""


class QueryError(NewswatchError):
    """A read-only query failed (syntax, unknown table, attempted write)."""


class MailError(NewswatchError):
    """A digest could not be delivered."""
