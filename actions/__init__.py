"""rasa-sdk action server of the 12348 assistant: thin adapters over the `hotline` core.

Run with `.venv/bin/python -m rasa_sdk --actions actions` (port 5055). Modules by concern: wage_claim, legal_aid,
advisor, handoff, topics, dialogue, documents (the draft papers and reminders, issue 25); consultation_log is the
one place that writes the consultation log.
"""
