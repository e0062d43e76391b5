"""newswatch: watch news sources for AI partnerships and in-house AI model efforts."""

__version__ = "0.1.0"
