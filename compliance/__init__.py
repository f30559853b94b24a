"""Compliance: pure rules deciding who may be contacted now, the Permits they mint, their stores."""
