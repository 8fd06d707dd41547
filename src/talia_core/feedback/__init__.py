"""Feedback: contact messages, the claims book and testimonials."""
