"""The HTTP surface: the only package that imports FastAPI and Starlette."""
