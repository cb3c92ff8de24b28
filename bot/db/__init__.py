"""The business database: customers, orders, tickets, handoffs and what conversations left."""
