"""mock_apis package."""
