"""The ``reverie`` command: ``main`` parses, each sub-command lives in its own module.

Kept empty of imports so ``python -m reverie.cli.server`` (the background server) loads only its own.
"""
