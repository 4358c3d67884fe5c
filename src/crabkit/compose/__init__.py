"""Composition of training examples: forward, reverse, mixed with general chat data."""
