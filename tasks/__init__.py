"""Use cases and the actors that run them."""
