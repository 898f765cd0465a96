"""The dlt anchor: a dlt pipeline over the same mock APIs, merging into DuckDB.

Run with the dlt venv (bench/.venv-dlt), never the project venv:
    bench/.venv-dlt/bin/python bench/dlt_anchor/pipeline.py BASE_URL MC_KEY HS_TOKEN OUT_DIR
Prints one JSON line: {"records": n, "seconds": s}. Streams and page sizes match
the custom connectors' full sync (HubSpot list endpoints, MailChimp offset paging),
each resource `write_disposition="merge"` on the same primary keys.
"""

from __future__ import annotations

import json
import sys
import time

import dlt
import requests

BASE, MC_KEY, HS_TOKEN, OUT = sys.argv[1:5]
mc = requests.Session()
mc.auth = ("any", MC_KEY)
hs = requests.Session()
hs.headers["Authorization"] = f"Bearer {HS_TOKEN}"
COUNT = {"n": 0}


def mc_pages(path: str, key: str, **params):
    offset = 0
    while True:
        data = mc.get(
            f"{BASE}/3.0{path}", params={**params, "count": 1000, "offset": offset}
        ).json()
        items = data.get(key) or []
        COUNT["n"] += len(items)
        if items:
            yield items
        offset += len(items)
        if len(items) < 1000:
            return


def hs_pages(kind: str, archived: str):
    after = None
    props = {
        "contacts": "email,firstname,lastname,company,lifecyclestage,hubspot_owner_id,createdate,"
        "lastmodifieddate,associatedcompanyid",
        "companies": "name,domain,industry,hubspot_owner_id,createdate,hs_lastmodifieddate",
        "deals": "dealname,amount,dealstage,pipeline,closedate,createdate,hs_lastmodifieddate,"
        "hubspot_owner_id",
    }[kind]
    while True:
        params = {"limit": 100, "archived": archived, "properties": props}
        if after:
            params["after"] = after
        data = hs.get(f"{BASE}/crm/v3/objects/{kind}", params=params).json()
        items = data.get("results") or []
        COUNT["n"] += len(items)
        if items:
            yield items
        after = ((data.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return


@dlt.source(name="mailchimp")
def mailchimp():
    lists = [x["id"] for page in mc_pages("/lists", "lists") for x in page]
    reports = [x["id"] for page in mc_pages("/reports", "reports") for x in page]

    @dlt.resource(write_disposition="merge", primary_key=["list_id", "id"])
    def members():
        for lid in lists:
            yield from mc_pages(f"/lists/{lid}/members", "members")

    @dlt.resource(write_disposition="merge", primary_key="id")
    def campaigns():
        yield from mc_pages("/campaigns", "campaigns")

    @dlt.resource(write_disposition="merge", primary_key=["campaign_id", "email_id"])
    def sent_to():
        for cid in reports:
            yield from mc_pages(f"/reports/{cid}/sent-to", "sent_to")

    @dlt.resource(write_disposition="merge", primary_key=["campaign_id", "email_id"])
    def email_activity():
        for cid in reports:
            yield from mc_pages(f"/reports/{cid}/email-activity", "emails")

    @dlt.resource(write_disposition="merge", primary_key=["campaign_id", "email_id"])
    def unsubscribes():
        for cid in reports:
            yield from mc_pages(f"/reports/{cid}/unsubscribed", "unsubscribes")

    return members, campaigns, sent_to, email_activity, unsubscribes


@dlt.source(name="hubspot")
def hubspot():
    def make(kind):
        @dlt.resource(name=kind, write_disposition="merge", primary_key="id")
        def res():
            yield from hs_pages(kind, "false")
            yield from hs_pages(kind, "true")

        return res

    return [make(k) for k in ("contacts", "companies", "deals")]


if __name__ == "__main__":
    t0 = time.perf_counter()
    for name, src in (("mailchimp", mailchimp()), ("hubspot", hubspot())):
        p = dlt.pipeline(
            pipeline_name=f"anchor_{name}",
            destination=dlt.destinations.duckdb(f"{OUT}/dlt_{name}.duckdb"),
            dataset_name=f"raw_{name}",
            pipelines_dir=f"{OUT}/.dlt",
        )
        p.run(src)
    print(json.dumps({"records": COUNT["n"], "seconds": time.perf_counter() - t0}))
