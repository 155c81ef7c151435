"""accounts: user accounts, service clients and tokens (login, refresh, revocation)."""
