"""Tasking's Kafka side: the topics it publishes and the handlers of what it consumes."""
