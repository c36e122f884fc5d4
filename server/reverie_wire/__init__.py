"""Reverie's wire: what the dream server and its clients (the command line, the GIMP plug-in) share.

The protocol, the client, the error classes, key loading, the config a client reads and the dream
parameters' schema. Standard library and pyzmq only, so GIMP's own Python (no NumPy) imports it as it is:
the installer copies this whole package beside the plug-in.
"""
