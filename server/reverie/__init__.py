"""Reverie: DeepDream for GIMP 3, served over ZeroMQ.

Kept import-free on purpose: the GIMP plug-in imports ``reverie.protocol`` and ``reverie.client``
from GIMP's own Python, which has neither NumPy nor TensorFlow.
"""

__version__ = "0.1.0"
