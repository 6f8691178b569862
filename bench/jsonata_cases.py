"""The JSONata cases: the transforms both sides evaluate, the generated data, and how two
sides' results are compared.

The transforms live in ``jsonata_transforms.json`` (name → expression) so that the Python and
the JavaScript side read the very same text. The data is a Microsoft Graph-shaped page of
orders, ``{"value": [row, …]}``, generated from a fixed seed and written to one JSON file per
size that both sides load.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

TRANSFORMS_FILE = Path(__file__).resolve().parent / "jsonata_transforms.json"
SIZES = (100, 1_000, 10_000)
PROFILED = ("select and map", 1_000)  # the case profiled once with cProfile
# The call context a function's expressions see as $ctx (see FUNCTIONS.md, "Expressions").
CONTEXT: dict[str, Any] = {
    "parameters": {"status": "open", "$top": 50},
    "user": {"id": "user-bench", "email": "owner@bench.authgate.test", "displayName": "Bench"},
    "solution": {"id": "solution-bench", "name": "bench", "organizationId": "org-bench"},
}

_STATUSES = ("open", "open", "shipped", "shipped", "shipped", "cancelled", "returned")
_CITIES = ("Amsterdam", "Berlin", "Cape Town", "Lisbon", "Montréal", "Oslo", "Seoul", "Zürich")
_FIRST = ("Ada", "Bram", "Chloé", "Dmitri", "Eun-ji", "Femi", "Grete", "Hugo", "Inés", "Jun")
_LAST = ("Nakamura", "Okafor", "Petersen", "Quist", "Rossi", "Silva", "Tanaka", "Umarov")
_TAGS = ("priority", "gift", "b2b", "backorder", "fragile", "repeat", "promo", "export")


def transforms() -> dict[str, str]:
    """Each transform's name and JSONata expression, in table order."""
    loaded: dict[str, str] = json.loads(TRANSFORMS_FILE.read_text())
    return loaded


def document(rows: int, seed: int = 20_240_601) -> dict[str, Any]:
    """A page of ``rows`` orders, the same for the same ``rows`` and ``seed``."""
    rng = random.Random(seed)
    value = []
    for i in range(rows):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        value.append(
            {
                "id": f"ORD-{i + 1:05d}",
                "status": rng.choice(_STATUSES),
                "customer": {
                    "id": f"C-{rng.randrange(1, max(2, rows // 4)):05d}",
                    "name": f"{first} {last}",
                    "city": rng.choice(_CITIES),
                    "email": f"{first.lower()}.{last.lower()}@example.com",
                },
                "total": round(rng.uniform(5, 500), 2),
                "quantity": rng.randint(1, 20),
                "currency": "EUR",
                "created": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
                "tags": rng.sample(_TAGS, rng.randint(0, 3)),
            }
        )
    return {"@odata.count": rows, "value": value}


def write_documents(folder: Path) -> dict[int, Path]:
    """One data file per size in ``folder``; returns size → file."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for rows in SIZES:
        path = folder / f"orders-{rows}.json"
        path.write_text(json.dumps(document(rows), ensure_ascii=False))
        files[rows] = path
    return files


def difference(python: Any, javascript: Any, where: str = "$") -> str | None:
    """Where two results differ (numbers within 1e-9 relative count as equal), or None.

    JSON has one number type, so 3 and 3.0 are the same value.
    """
    if isinstance(python, bool) or isinstance(javascript, bool):
        same = python is javascript
    elif isinstance(python, int | float) and isinstance(javascript, int | float):
        same = math.isclose(python, javascript, rel_tol=1e-9, abs_tol=1e-12)
    elif isinstance(python, dict) and isinstance(javascript, dict):
        if python.keys() != javascript.keys():
            return f"{where}: keys {sorted(python)[:5]}… ≠ {sorted(javascript)[:5]}…"
        for key in python:
            found = difference(python[key], javascript[key], f"{where}.{key}")
            if found:
                return found
        return None
    elif isinstance(python, list) and isinstance(javascript, list):
        if len(python) != len(javascript):
            return f"{where}: {len(python)} items ≠ {len(javascript)} items"
        for index, (a, b) in enumerate(zip(python, javascript, strict=True)):
            found = difference(a, b, f"{where}[{index}]")
            if found:
                return found
        return None
    else:
        same = python == javascript
    if same:
        return None
    return f"{where}: {json.dumps(python)[:80]} ≠ {json.dumps(javascript)[:80]}"
