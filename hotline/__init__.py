"""Core of the 12348 legal-service assistant: legal rules, directory, consultation log, statistics.

No Rasa and no TensorFlow in here: the action server, the web app and the CLI all import this package.
"""
