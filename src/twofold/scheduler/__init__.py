"""Twofold's clean-ups on a schedule, inside the server: each job runs on one instance at a time
(a conditional UPDATE claims its run, a lease ends a dead runner's claim), the ``twofold``
commands stay for operators who prefer cron (docs/operations.md, "Clean-ups")."""
