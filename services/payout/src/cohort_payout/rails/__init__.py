"""Payment rails: turning a run's payments into the file a bank (or payment provider) takes."""
