"""A local function reads back from the public definition exactly as it was published."""

from __future__ import annotations

from dataclasses import replace

from authgate.functions.loader import load_solution
from authgate.functions.model import Parameter, ParameterLocation, RestFunction
from authgate.functions.public_definition import local_functions
from authgate.functions.serialize import public_definition

FUNCTION = """\
provider: DATA_PROVIDER_REST
method: POST
url: https://api.example/orders/{customer}
useLocalCall: true
forRowsWithMatchingIds: true
parameters:
  customer: {location: path, type: string, required: true}
  top: {location: query, type: number, required: false, value: 50}
  note: {location: body, type: string, required: false}
inputTransform: '={"note": note}'
outputTransform: =$
records: =$.value
continuation:
  when: =$.next
  url: =$.next
error:
  - when: =@ctx.response.status = 404
    title: Not found
  - when: =@ctx.response.status = 503
    retry: {delay: 10, maxRetries: 2}
"""


def test_the_device_runs_what_was_published() -> None:
    files = {
        "solution.yaml": "name: crm\n",
        "functions/orders.yaml": FUNCTION,
        "functions/cloud.yaml": "provider: DATA_PROVIDER_REST\nmethod: GET\n"
        "url: https://api.example/x\n",
    }
    published = load_solution(files).solution
    original = published.functions["orders"]
    assert isinstance(original, RestFunction)
    read_back = local_functions(public_definition(published))
    assert set(read_back) == {"orders"}
    assert read_back["orders"] == replace(original, source="orders (synced)")


def test_credential_parameters_come_back_by_name_only() -> None:
    function = RestFunction(
        name="f",
        source="functions/f.yaml",
        method="GET",
        url="https://api.example/",
        use_local_call=True,
        parameters={
            "accessToken": Parameter(
                "accessToken",
                ParameterLocation.HEADER,
                required=True,
                value="crm.token",
                credential="crm.token",
            )
        },
    )
    from authgate.functions.model import Solution

    document = public_definition(Solution("crm", functions={"f": function}))
    assert "value" not in document["functions"]["f"]["parameters"]["accessToken"]
    back = local_functions(document)["f"]
    assert back.parameters["accessToken"].credential == "crm.token"
    assert back.parameters["accessToken"].value is None
