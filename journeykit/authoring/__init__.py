"""Tools for the people who write journeys: preview messages, draw the graph, diff two
versions, and migrate live enrollments from one version to another."""
