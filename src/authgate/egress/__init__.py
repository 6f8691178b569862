"""Outbound HTTP for functions and connections: the SSRF-safe egress client."""
