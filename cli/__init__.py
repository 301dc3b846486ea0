"""The admin command line, `reviewq`."""
