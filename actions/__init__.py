"""The Rasa action server: one module per concern, business logic in ``bot``."""
