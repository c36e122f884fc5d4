"""Scale-out on Ray: the dream server's ZeroMQ front hands its jobs to dreamers, Ray actors each holding a warm model.

Only this package imports Ray, and only ``reverie serve --cluster`` imports it (``settings`` does not): the desktop
never loads Ray. Ray is the optional extra ``reverie[cluster]``. See docs/cluster.md.
"""
