"""Foundations: settings, the database, the tables and their migrations. Imports nothing of
Journeykit."""
