"""The engine: campaign runners, hopper, call lifecycle, SIP, media and SMPP adapters."""
