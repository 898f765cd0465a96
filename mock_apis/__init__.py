"""Mock MailChimp Marketing v3 + HubSpot CRM v3 APIs over one deterministic, seeded world.

`mock_apis.testing.MockServer` runs them on loopback for tests; `mock_apis.serve`
serves them in the foreground (`elt mock-apis`, `python -m mock_apis`);
`mock_apis.groundtruth` says what they hold.
"""
