"""PostgreSQL pool, SQL migrations, Redis client and keys, embedded servers for the default run."""
