"""Pure pacing controllers, estimators and the call-centre simulator (no IO, no clock)."""
