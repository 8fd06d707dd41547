"""Selling: carts, coupons, orders and their payments."""
