"""The Journeykit web app (see journeykit/web/app.py and docs/web.md)."""
