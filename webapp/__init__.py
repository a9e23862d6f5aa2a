"""Klachtroute: complaint procedures as BPMN processes on SpiffWorkflow."""
