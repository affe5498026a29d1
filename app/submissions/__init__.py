"""Citizen applications: drafts while filling in, submissions once sent."""
