"""The rigs' journeys commands (bench, chaos), registered through the journeykit.commands entry
point."""
