"""Helpers of ``install/install.py``: standard library only, so any Python 3.10+ can run the installer."""
