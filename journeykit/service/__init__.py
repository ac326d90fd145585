"""The service: the one place every door calls to record an event or action and advance what is
due."""
