"""Built-in actions and audiences, one module per journey concern. Each declares its functions
with ``journeykit.engine.registry.action`` / ``audience``; nothing registers on import: the
registry loader reads this package (``[tool.journeykit] action_modules``)."""
