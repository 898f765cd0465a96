"""Credentials the mock APIs accept by default. They open nothing real."""

MOCK_MAILCHIMP_API_KEY = "0123456789abcdef0123456789abcdef-us21"
MOCK_HUBSPOT_TOKEN = "pat-na1-00000000-0000-0000-0000-000000000000"
