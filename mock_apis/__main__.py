"""`python -m mock_apis --port 0 --seed 42 --scale 1.0` serves both APIs (see mock_apis.cli)."""

from mock_apis.cli import app

app(prog_name="python -m mock_apis")
