"""Notifications: webhooks (JSON, Slack-compatible) and e-mail (SMTP) about cords pulled, warning
checks failing and deliverables at risk, delivered off the scheduler's thread with retries."""
