"""pyzmq, checked when a dream starts rather than when GIMP registers the plug-in.

GIMP queries every plug-in at start-up; a plug-in whose import fails there silently leaves the menu.
So the entry file imports nothing beyond GIMP, and a dream first makes sure the client's pyzmq loads,
turning its absence (or a build for another Python) into a message that names the fix.
"""

from __future__ import annotations

import platform

from reverie_plugin import messages
from reverie_plugin.messages import PluginFailure


def require_pyzmq() -> None:
    """Import what the client and the CURVE keys use from pyzmq; PluginFailure with the fix if that fails."""
    try:
        import zmq.auth
        import zmq.utils.monitor  # noqa: F401
    except ImportError as error:
        raise PluginFailure(messages.no_pyzmq_text(error, platform.python_version())) from None
