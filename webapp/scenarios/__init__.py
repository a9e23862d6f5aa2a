"""Scenario tests for diagrams: declarative YAML files run against the real runtime
with a virtual clock (`klachtroute verify bpmn/<organisation>`)."""
