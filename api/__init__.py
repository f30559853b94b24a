"""The aiohttp application: REST API, OpenAPI, auth, live events, webhooks, web pages."""
