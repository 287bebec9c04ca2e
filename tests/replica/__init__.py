"""An offline, deterministic replica of report.az for newsbot's tests and demos.

    python -m tests.replica --port 8000 --stories 300      (see __main__.py)

Modules: texts (word banks), content (stories, state, ground truth), pages (HTML/RSS
with markup noise), faults (fault rules), server (Twisted resource and control
endpoints), client (start a replica subprocess and talk to it; used by tests/conftest.py).
"""
