"""Embed builders and views: pure functions over domain objects, no I/O of their own."""
