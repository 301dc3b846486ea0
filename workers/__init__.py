"""The worker runtime: the broker, middleware and e-mail delivery."""
