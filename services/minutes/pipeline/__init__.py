"""The minutes pipeline: pure functions and generators over plain data.

Nothing in here knows about HTTP, the database or the user; ``service.py`` wires it together.
"""
