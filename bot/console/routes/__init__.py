"""The console's routes, one module per resource: each parses the request, calls the service and
renders a page or answers the API. Database work is the service's (bot/service)."""
