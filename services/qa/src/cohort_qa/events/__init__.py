"""QA's outgoing events: the topics it publishes and consumes, and pure builders of the messages
it publishes (the application layer imports these; nothing here imports the application)."""
