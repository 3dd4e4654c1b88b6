"""Backprop Lab window (issue 3)."""
