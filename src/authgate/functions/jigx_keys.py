"""The keys of Jigx definition files, as Jigx documents them (docs.jigx.com, "Functions").

authgate reads Jigx function files unchanged. Keys it runs are listed with their readers;
the keys here are Jigx features it does not run yet: a file using them loads, with a
warning naming each, instead of failing as an unknown key would.
"""

from __future__ import annotations

FUNCTION_NOT_IMPLEMENTED = frozenset(
    {
        "conversions",  # file conversions (base64, data-uri, buffer ↔ local-uri) on the device
        "forRowsInRange",  # device-side merge of rows in a range
        "forRowsWithValues",  # device-side merge of rows with given column values
        "functionId",  # overrides the function's name
        "guard",  # follow-up functions run after the call
        "keepTempIds",  # device-side temporary ids
        "operations",  # writes into the device's local SQLite tables
        "output",  # the value returned to calling actions
        "queries",  # just-in-time reads of the device's local data
        "when",  # skip the call depending on local state
    }
)
"""Top-level keys of REST and SQL functions that load with a warning."""

ERROR_HANDLER_NOT_IMPLEMENTED = frozenset(
    {
        "icon",  # the device's error notification icon
        "notification",  # whether the device shows a notification
        "table",  # the device-side error log table
        "transform",  # what is written to that table
        "operations",  # local-table writes on error
    }
)
"""Keys of an ``error:`` handler that load with a warning."""

SOLUTION_NOT_IMPLEMENTED = frozenset(
    {"category", "home", "tabs", "widgets", "onFocus", "onRefresh"}
)
"""Keys of a Jigx ``index.jigx`` that may be carried over into ``solution.yaml``."""
