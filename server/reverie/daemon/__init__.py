"""The server in the background: start, stop, status and logs, its pid and log files."""
