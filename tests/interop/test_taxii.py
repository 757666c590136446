"""The node's TAXII 2.1 server against the reference client (taxii2-client).

Starts a node with `trilat init` + `trilat serve` (binary at TRILAT_BIN),
then discovers, lists collections, posts an envelope, reads it back (objects,
one object, versions, manifest, paging) with `taxii2client.v21`.
"""
import uuid

import pytest
import requests

from node_process import start_node

v21 = pytest.importorskip("taxii2client.v21")


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


DELETABLE_TAXII = """
[taxii]
[[taxii.api_roots]]
name = "trilat"
title = "Trilat"
[[taxii.collections]]
id = "6a1c9e52-3b7d-4f08-8e2a-5c4d3b2a1f09"
api_root = "trilat"
title = "Deletable"
alias = "deletable"
tlp_max = "RED"
can_write = true
allow_delete = true
"""


@pytest.fixture()
def node(trilat_bin, tmp_path):
    yield from start_node(trilat_bin, tmp_path, "")


@pytest.fixture()
def deleting_node(trilat_bin, tmp_path):
    yield from start_node(trilat_bin, tmp_path, DELETABLE_TAXII)


def indicator(stix_id: str, modified: str) -> dict:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id,
        "created": "2026-01-02T03:04:05.000Z",
        "modified": modified,
        "name": "bad address",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2026-01-02T03:04:05.000Z",
        "object_marking_refs": ["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"],
    }


def test_taxii2_client_round_trip(node):
    url, token = node
    auth = BearerAuth(token)
    server = v21.Server(f"{url}/taxii2/", auth=auth)
    assert server.title
    assert server.default is not None
    api_root = server.default
    assert "application/taxii+json;version=2.1" in api_root.versions
    collections = api_root.collections
    assert len(collections) == 1
    collection = collections[0]
    assert collection.alias == "trilat-cyber"
    assert collection.can_read and collection.can_write

    first = f"indicator--{uuid.uuid4()}"
    second = f"indicator--{uuid.uuid4()}"
    envelope = {"objects": [indicator(first, "2026-01-02T03:04:05.000Z"), indicator(second, "2026-01-02T03:04:05.000Z")]}
    status = collection.add_objects(envelope)
    assert status.status == "complete"
    assert status.success_count == 2, status.failures
    assert status.failure_count == 0

    again = api_root.get_status(status.id)
    assert again.id == status.id and again.success_count == 2

    got = collection.get_objects(type="indicator")
    assert sorted(o["id"] for o in got["objects"]) == sorted([first, second])
    assert got["more"] is False

    one = collection.get_object(first)
    assert one["objects"][0]["pattern"] == "[ipv4-addr:value = '198.51.100.7']"

    collection.add_objects({"objects": [indicator(first, "2026-02-01T00:00:00.000Z")]})
    versions = collection.object_versions(first)
    assert versions["versions"] == ["2026-01-02T03:04:05.000Z", "2026-02-01T00:00:00.000Z"]
    latest = collection.get_object(first)
    assert latest["objects"][0]["modified"] == "2026-02-01T00:00:00.000Z"

    manifest = collection.get_manifest()
    assert {r["id"] for r in manifest["objects"]} >= {first, second}

    paged = []
    for page in v21.as_pages(collection.get_objects, per_request=1, type="indicator"):
        paged.extend(o["id"] for o in page.get("objects", []))
    assert sorted(paged) == sorted([first, second])


def test_wrong_token_is_a_taxii_error(node):
    url, _ = node
    response = requests.get(
        f"{url}/taxii2/",
        headers={"Accept": "application/taxii+json;version=2.1", "Authorization": "Bearer nope"},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/taxii+json")
    assert response.json()["http_status"] == "401"


def test_taxii2_client_delete_object(deleting_node):
    url, token = deleting_node
    auth = BearerAuth(token)
    collection = v21.Server(f"{url}/taxii2/", auth=auth).api_roots[0].collections[0]
    assert collection.alias == "deletable"
    kept = f"indicator--{uuid.uuid4()}"
    gone = f"indicator--{uuid.uuid4()}"
    envelope = {"objects": [indicator(kept, "2026-01-02T03:04:05.000Z"), indicator(gone, "2026-01-02T03:04:05.000Z")]}
    assert collection.add_objects(envelope).success_count == 2
    collection.delete_object(gone)
    assert [o["id"] for o in collection.get_objects(type="indicator")["objects"]] == [kept]
    with pytest.raises(requests.HTTPError) as missing:
        collection.get_object(gone)
    assert missing.value.response.status_code == 404
    with pytest.raises(requests.HTTPError) as twice:
        collection.delete_object(gone)
    assert twice.value.response.status_code == 404
