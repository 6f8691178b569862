"""OAuth 1.0a signed fetch (RFC 5849 and the request body hash extension): the protocol core.

Pure code with no I/O: parsing the request's OAuth parameters, the signature base string,
HMAC-SHA1, HMAC-SHA256 and RSA-SHA1 signatures, verification of an incoming request and
signing of an outgoing one. Nonce replay storage and HTTP routes live elsewhere.
"""
