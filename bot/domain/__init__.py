"""The Telegram-free domain: services that own the rules. They never import telegram or handlers."""
