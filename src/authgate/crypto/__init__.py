"""Cryptographic primitives: password hashing, keyed hashes, sealing, signing keys."""
