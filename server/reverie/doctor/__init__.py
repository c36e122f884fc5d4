"""``reverie doctor``'s checks: what a working install needs, each as a pass, a warning or a failure."""
