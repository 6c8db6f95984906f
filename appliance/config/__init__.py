"""Configuration that lives in the database, loaded from files."""
