"""fieldbot: coordinate preparation work across a tree of field units over Telegram."""
