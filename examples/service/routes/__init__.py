"""The service's routers, one module per kind of record."""
