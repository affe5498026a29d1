"""The citizen-facing blueprints of submissions (the pipeline appends its own)."""

from __future__ import annotations

from flask import Blueprint

from app.submissions import flow, status

bps: list[Blueprint] = [flow.bp, status.bp]
