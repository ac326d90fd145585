"""The journey language: YAML files validated by pydantic models, then by graph checks."""
