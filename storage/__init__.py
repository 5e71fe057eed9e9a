"""The database: typed models, sessions, repository functions and Alembic migrations."""
