"""Team-library tests: the fixtures (pg_server, pg_database, pg_library) live in
tests/pg_server.py, imported for every test directory by tests/conftest.py."""
