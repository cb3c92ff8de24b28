"""The business: customers and tiers, orders, complaints and tickets, handoffs and
escalation, outcomes, knowledge gaps and analytics. Plain functions and small classes
over SQLAlchemy sessions; no Rasa, no FastAPI."""
