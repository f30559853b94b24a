"""The shared inbound ACD: agents, skills, queues, routing, contacts and tickets with SLA."""
