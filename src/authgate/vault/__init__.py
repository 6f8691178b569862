"""The vault: credentials stored with envelope encryption, write-only."""
