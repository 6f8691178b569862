"""SQL functions end to end through the lean call endpoint: the device sends parameters,
authgate resolves the stored connection and runs the statement on a real PostgreSQL; the
connection's password appears in no response, log line or file."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.http.conftest import Start, bearer
from tests.sqlproxy.conftest import Database, postgres_database  # noqa: F401

PASSWORD = "canary-sql-password-4b7e0d"
FIND = """\
provider: DATA_PROVIDER_SQL
connection: sales.db
method: query
query: SELECT id, name FROM people WHERE name LIKE CONCAT(@Prefix, '%') ORDER BY id
parameters:
  Prefix: {type: string, location: input, required: true}
"""


def with_password(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.replace("@", f":{PASSWORD}@", 1)))


async def test_a_device_calls_a_sql_function(
    start: Start,
    postgres_database: Database,  # noqa: F811
    capfd: pytest.CaptureFixture[str],
) -> None:
    await postgres_database.execute("CREATE TABLE people (id INT PRIMARY KEY, name TEXT)")
    await postgres_database.execute("INSERT INTO people VALUES (1, 'Ada'), (2, 'Alan'), (3, 'Bo')")
    async with start(sql_allowed_hosts=("127.0.0.1",)) as ag:
        org, owner = await ag.org_with_owner("sql")
        headers = bearer((await ag.login(owner.email))["access_token"])
        stored = await ag.client.put(
            f"/v1/orgs/{org.slug}/credentials/sales.db",
            headers=headers,
            json={"kind": "sql_connection", "value": with_password(postgres_database.url)},
        )
        assert stored.status_code in (200, 201), stored.text
        files = {"solution.yaml": "name: sales\n", "functions/find.yaml": FIND}
        published = await ag.client.put(
            f"/v1/orgs/{org.slug}/solutions/sales", headers=headers, json={"files": files}
        )
        assert published.status_code == 200, published.text
        url = "/v1/solutions/sales/functions/find:call"
        found = await ag.client.post(url, headers=headers, json={"parameters": {"Prefix": "A"}})
        assert found.status_code == 200, found.text
        assert found.json() == {
            "records": [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Alan"}],
            "output": [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Alan"}],
            "pages": 1,
        }
        refused = await ag.client.post(
            url, headers=headers, json={"parameters": {"Prefix": "A", "connection": "x"}}
        )
        assert refused.status_code == 400, refused.text
        definition = await ag.client.get("/v1/solutions/sales/definition", headers=headers)
        assert "SELECT" not in definition.text  # the statement stays on the server
        bodies = found.text + refused.text + definition.text + stored.text
        data_dir = ag.data_dir
    logs = capfd.readouterr()
    files_text = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    assert PASSWORD not in bodies
    assert PASSWORD not in logs.out + logs.err
    assert PASSWORD.encode() not in files_text
