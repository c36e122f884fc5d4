"""The GIMP-independent half of the Reverie plug-in: arguments, geometry, formats, messages, start-up.

Nothing here imports ``gi``, so every rule the plug-in follows can be tested with plain pytest.
"""
