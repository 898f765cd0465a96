"""How fast the mock APIs serve pages: prints pages/s and records/s (not a test).

    .venv/bin/python bench/bench_mock_apis.py [--scale 1] [--rounds 3]

Walks every member page of every MailChimp list (count=1000) and every HubSpot
contact page (limit=100) with one keep-alive client, first cold (pages built and
serialised) then warm (served from the page cache). The client parses each page
with orjson, as a connector would, so the numbers are end-to-end.
"""

from __future__ import annotations

import argparse
import time

import orjson
import requests

from mock_apis.testing import MockServer


def walk_members(session: requests.Session, base: str, key: str) -> tuple[int, int]:
    pages = records = 0
    lists = orjson.loads(
        session.get(f"{base}/3.0/lists", auth=("b", key), params={"count": 1000}).content
    )
    for lst in lists["lists"]:
        offset = 0
        while True:
            resp = session.get(
                f"{base}/3.0/lists/{lst['id']}/members",
                params={"count": 1000, "offset": offset},
                auth=("b", key),
            )
            body = orjson.loads(resp.content)
            pages += 1
            records += len(body["members"])
            offset += 1000
            if offset >= body["total_items"]:
                break
    return pages, records


def walk_contacts(session: requests.Session, base: str, token: str) -> tuple[int, int]:
    pages = records = 0
    after = None
    headers = {"Authorization": f"Bearer {token}"}
    while True:
        params = {"limit": 100, **({"after": after} if after else {})}
        body = orjson.loads(
            session.get(f"{base}/crm/v3/objects/contacts", params=params, headers=headers).content
        )
        pages += 1
        records += len(body["results"])
        after = body.get("paging", {}).get("next", {}).get("after")
        if not after:
            return pages, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    figures: dict = {"scale": args.scale, "rounds": args.rounds}
    with MockServer(seed=args.seed, scale=args.scale) as srv:
        figures["startup_s"] = round(time.perf_counter() - t0, 2)
        print(f"world scale={args.scale} generated + server up in {figures['startup_s']:.2f}s")
        session = requests.Session()
        walks = {
            "mailchimp members (count=1000)": lambda: walk_members(
                session, srv.base_url, srv.mailchimp_api_key
            ),
            "hubspot contacts (limit=100)": lambda: walk_contacts(
                session, srv.base_url, srv.hubspot_token
            ),
        }
        for name, walk in walks.items():
            for rnd in range(args.rounds):
                start = time.perf_counter()
                pages, records = walk()
                dt = time.perf_counter() - start
                label = "cold" if rnd == 0 else "warm"
                best = figures.setdefault(name, {}).get(f"{label}_records_per_s", 0)
                figures[name][f"{label}_records_per_s"] = max(best, round(records / dt))
                print(
                    f"{name:32s} {label}: {pages:5d} pages {records:7d} records in {dt:6.3f}s"
                    f" -> {pages / dt:8.1f} pages/s {records / dt:10.0f} records/s"
                )
    from results import record

    record("bench_mock_apis", figures)


if __name__ == "__main__":
    main()
