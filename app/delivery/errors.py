"""How a delivery attempt fails: for now, or until someone changes the configuration."""

from __future__ import annotations


class DeliveryError(Exception):
    """This attempt failed; a later one may succeed."""


class PermanentDeliveryError(DeliveryError):
    """No attempt can succeed until someone changes the configuration."""
