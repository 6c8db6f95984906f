"""The admin panel and REST API (litestar); it calls `appliance/` services, never the reverse."""
