"""`python -m mock_apis [--host H] [--port P] [--seed S] [--scale X] [--fault KIND:RATE[:SEED]]
[--defect KIND[:STREAM][,opt=value...]]` serves both APIs with explicit flags and no other
configuration (`elt mock-apis` reads the MOCK_* settings instead)."""

import argparse

from mock_apis.app import Limits
from mock_apis.defects import help_text
from mock_apis.serve import parse_fault, serve
from mock_apis.world import WorldConfig

ap = argparse.ArgumentParser(prog="python -m mock_apis")
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--seed", type=int, default=42)
ap.add_argument("--scale", type=float, default=1.0)
ap.add_argument("--hubspot-rate-limit", type=int, default=None, help="requests per 10 s")
ap.add_argument("--fault", action="append", default=[], help="KIND:RATE[:SEED], repeatable")
ap.add_argument(
    "--defect",
    action="append",
    default=[],
    metavar="KIND[:STREAM][,opt=value...]",
    help="inject a data defect before serving, repeatable; e.g. empty:deals, "
    "invalid_email:contacts,count=5, type_change:members,field=last_changed,to=epoch. "
    "Options: rate (share of the stream's records; 1.0 for schema kinds, 0.1 otherwise) or "
    "count, seed, field, value, to (string|epoch|formatted|number), years, touch (false: "
    f"leave cursors alone). Kinds: {help_text()}. Drive a running server with "
    "GET/POST/DELETE /_admin/defects.",
)
args = ap.parse_args()
try:  # a defect the spec or the generated world refuses is a usage error, not a crash
    serve(
        WorldConfig(seed=args.seed, scale=args.scale, defects=tuple(args.defect)),
        host=args.host,
        port=args.port,
        limits=Limits(hubspot_max=args.hubspot_rate_limit),
        faults=[parse_fault(f) for f in args.fault],
    )
except ValueError as exc:
    ap.error(str(exc))
