"""The HTTP edge and the process: settings, the Bolt app, the WSGI server, acknowledgements, logs and metrics."""
