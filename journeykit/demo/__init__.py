"""The demo: a small store, every journey, a fast clock, the local provider sandbox."""
