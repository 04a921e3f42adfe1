"""Domain rules as plain async functions: no Telegram here."""
