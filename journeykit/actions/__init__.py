"""Built-in actions and audiences, one module per journey concern (registered on import)."""
