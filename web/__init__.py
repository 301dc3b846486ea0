"""The pages of the `web` process for people: reviewers answer, managers run their call."""
