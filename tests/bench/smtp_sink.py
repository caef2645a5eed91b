"""A loopback SMTP server that accepts and counts messages, for make bench (mails per second).
usage: smtp_sink.py PORT COUNTFILE — writes the number received to COUNTFILE as it goes."""
import sys
import time

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self, path):
        self.path = path
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        with open(self.path, "w") as f:
            f.write(str(self.n))
        return "250 OK"


c = Controller(Counter(sys.argv[2]), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
try:
    while True:
        time.sleep(3600)
finally:
    c.stop()
