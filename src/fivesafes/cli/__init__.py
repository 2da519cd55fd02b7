"""Command-line edge: parse, call a service or the sdc library, render. No logic."""
