"""Dramawatch: a self-hosted Discord bot for drama watch communities."""

__version__ = "0.1.0"
