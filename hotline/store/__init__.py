"""The database (SQLAlchemy 2, Alembic), one module per concern: consultations, directory, operators, handoffs,
transcripts, purge, documents; models and db hold the tables and the session. Every SQL write is in here."""
