"""Tools for people: the demo."""
