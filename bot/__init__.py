"""league-bot: the application, its configuration and the domain services."""
