"""Recap feeds: safe fetching, parsing off the event loop, matching items to episodes, posting once."""
