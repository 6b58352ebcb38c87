"""Renderers for humans (tables) and machines."""
