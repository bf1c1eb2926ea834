"""The ``clearir`` command line."""
