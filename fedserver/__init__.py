"""fedserver: a federated social server for cities."""

__version__ = "0.1.0"
