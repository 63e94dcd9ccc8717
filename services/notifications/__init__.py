"""Notifications: inboxes, e-mail, webhooks and the public list (công khai)."""
