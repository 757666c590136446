"""The node's served OpenAPI document against openapi-spec-validator.

Starts a node with `trilat init` + `trilat serve` (binary at TRILAT_BIN),
fetches `GET /api/v1/openapi.json` without a token (it is public) and
validates it as OpenAPI 3.1 with the reference validator. That every served
route is in the document is the node's own test
(`openapi_lists_every_route_and_every_route_exists`, over `served_routes()`).
"""
import copy

import pytest
import requests

from node_process import start_node

openapi_spec_validator = pytest.importorskip("openapi_spec_validator")


@pytest.fixture()
def node(trilat_bin, tmp_path):
    yield from start_node(trilat_bin, tmp_path, "")


@pytest.fixture()
def document(node):
    url, _token = node
    response = requests.get(f"{url}/api/v1/openapi.json", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_served_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1."), document["openapi"]
    # Raises OpenAPIValidationError naming the offending path if invalid.
    openapi_spec_validator.validate(document)
    operations = [
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch", "head", "options"}
    ]
    # The API, peer, console, engine and TAXII routes (the node's test counts them exactly).
    assert len(operations) >= 40, operations
    assert ("post", "/api/v1/missile/detections/stream") in operations
    assert ("get", "/taxii2/{root}/collections/{id}/objects/") in operations
    assert ("get", "/console/{path}") in operations


def test_validator_refuses_a_broken_copy(document):
    """The check has teeth: the same document with a path parameter left
    undeclared, or without its required `info`, is refused."""
    undeclared = copy.deepcopy(document)
    undeclared["paths"]["/api/v1/reports/{owner}/{id}"]["get"]["parameters"] = []
    undeclared["paths"]["/api/v1/reports/{owner}/{id}"].pop("parameters", None)
    with pytest.raises(openapi_spec_validator.validation.exceptions.OpenAPIValidationError):
        openapi_spec_validator.validate(undeclared)
    no_info = copy.deepcopy(document)
    del no_info["info"]
    with pytest.raises(openapi_spec_validator.validation.exceptions.OpenAPIValidationError):
        openapi_spec_validator.validate(no_info)
