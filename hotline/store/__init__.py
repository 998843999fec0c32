"""The consultation log, the advisor directory and operator accounts (SQLAlchemy 2, Alembic)."""
