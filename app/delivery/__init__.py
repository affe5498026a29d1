"""Delivery of submissions to the offices: the outbox, its channels and the worker."""
