"""Database models, engine setup and migrations."""
