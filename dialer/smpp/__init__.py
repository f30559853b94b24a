"""SMS over SMPP 3.4: codec, sans-IO ESME and SMSC cores, asyncio client, sender and simulator."""
