"""Campaigns, lists, leads, list import, recycling, callbacks, dispositions, surveys, handoff."""
