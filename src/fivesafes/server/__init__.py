"""``fivesafes server``: the one process that holds the workspace, its keys and signing key.

People reach it over a Unix socket (identified by the kernel, SO_PEERCRED) or TCP
(signed in with a local password, bearer token); ``api.create_app`` builds the HTTP
API from ``operations``, ``run.serve`` serves it.
"""
