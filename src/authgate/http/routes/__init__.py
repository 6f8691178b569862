"""Thin routers: parse, call one domain service, shape the response."""
