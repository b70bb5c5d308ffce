"""Intake's domain model and rules: no gRPC, database or Kafka imports."""
