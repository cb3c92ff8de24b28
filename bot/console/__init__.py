"""The console web app: agents, admins and analytics."""
