"""Leads: one lead per contact and business line, its facts, score, stage and history."""
