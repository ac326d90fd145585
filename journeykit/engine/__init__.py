"""The journey engine: enroll subjects, advance due enrollments, one handler per node type."""
