"""The `elt` command line and the settings it shares with every stage."""
