"""Getting messages out: the outbox sender, its pacing and the HTTP transport."""
