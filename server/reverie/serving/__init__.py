"""The ZeroMQ dream server: its socket loop, the worker thread that owns the model, and the limits on what
clients can make it hold."""
