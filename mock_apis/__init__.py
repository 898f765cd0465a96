"""Mock MailChimp Marketing v3 + HubSpot CRM v3 APIs over one deterministic, seeded world.

`mock_apis.testing.MockServer` runs them on loopback for tests; `mock_apis.cli`
serves them from the command line; `mock_apis.groundtruth` says what they hold.
"""
