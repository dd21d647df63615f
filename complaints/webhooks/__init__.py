"""Signed webhooks (Standard Webhooks) for integrations: targets, events, delivery."""
