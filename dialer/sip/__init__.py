"""Our sans-IO SIP core (RFC 3261, outbound dialer profile) and its asyncio trunk adapter."""
