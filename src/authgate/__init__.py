"""authgate: a self-hosted identity and data gateway for apps."""

__version__ = "0.1.0"
