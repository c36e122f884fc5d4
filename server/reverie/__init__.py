"""Reverie: DeepDream for GIMP 3, served over ZeroMQ. The engine, the server (alone or in front of a
Ray cluster) and the ``reverie`` command;
what travels between the server and its clients is ``reverie_wire``'s."""

__version__ = "0.1.0"
