"""Text messages: the gateway port, its providers, failover, send limits and phone numbers.

Flows call :func:`twofold.sms.delivery.send_sms` and :func:`twofold.sms.numbers.parse_mobile`;
nothing here knows what the text is for beyond a ``purpose`` label.
"""
