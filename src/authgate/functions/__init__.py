"""Solutions and functions: the definition format, JSONata expressions and the engine."""
