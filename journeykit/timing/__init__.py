"""Time: the injected clock, zones, when a wait ends and quiet hours. Pure functions of (now,
zone)."""
