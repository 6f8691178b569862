"""Device tokens: EdDSA access tokens, rotating refresh tokens, service clients, signing keys."""
