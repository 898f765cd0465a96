"""`python -m mock_apis [--host H] [--port P] [--seed S] [--scale X] [--fault KIND:RATE[:SEED]]`
serves both APIs with explicit flags and no other configuration (`elt mock-apis` reads
the MOCK_* settings instead)."""

import argparse

from mock_apis.app import Limits
from mock_apis.serve import parse_fault, serve
from mock_apis.world import WorldConfig

ap = argparse.ArgumentParser(prog="python -m mock_apis")
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--seed", type=int, default=42)
ap.add_argument("--scale", type=float, default=1.0)
ap.add_argument("--hubspot-rate-limit", type=int, default=None, help="requests per 10 s")
ap.add_argument("--fault", action="append", default=[], help="KIND:RATE[:SEED], repeatable")
args = ap.parse_args()
serve(
    WorldConfig(seed=args.seed, scale=args.scale),
    host=args.host,
    port=args.port,
    limits=Limits(hubspot_max=args.hubspot_rate_limit),
    faults=[parse_fault(f) for f in args.fault],
)
