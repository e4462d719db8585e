"""Storage: SQLAlchemy schema, repositories, the audit log and migrations."""
