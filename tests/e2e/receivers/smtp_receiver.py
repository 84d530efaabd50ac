# A real SMTP server on 127.0.0.1 (Debian's python3-aiosmtpd; run it with /usr/bin/python3)
# for the alert e-mail tests. It does not offer STARTTLS. Recipients choose its replies:
#   reject@...  -> 550 on RCPT (permanent)
#   flaky@...   -> 451 on the first two RCPTs, then accepted (temporary)
#   anything else is accepted.
# Each accepted message is written to <out_dir>/<n>.eml, its envelope to <n>.json.
# Usage: [SMTP_PORT=n] /usr/bin/python3 smtp_receiver.py <port-file> <out-dir>
import asyncio
import json
import os
import socket
import sys

from aiosmtpd.controller import Controller

port_file, out_dir = sys.argv[1], sys.argv[2]
flaky_seen = 0


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        global flaky_seen
        if address.startswith("reject@"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("flaky@"):
            flaky_seen += 1
            if flaky_seen <= 2:
                return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = len([f for f in os.listdir(out_dir) if f.endswith(".eml")])
        with open(os.path.join(out_dir, f"{n}.json.tmp"), "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        with open(os.path.join(out_dir, f"{n}.eml"), "wb") as f:
            f.write(envelope.original_content)
        os.rename(os.path.join(out_dir, f"{n}.json.tmp"), os.path.join(out_dir, f"{n}.json"))
        return "250 Message accepted for delivery"


# aiosmtpd's controller needs a concrete port: $SMTP_PORT (a receiver started late on the
# port a config names), else a free one from the kernel.
probe = socket.socket()
probe.bind(("127.0.0.1", int(os.environ.get("SMTP_PORT", "0"))))
port = probe.getsockname()[1]
probe.close()
controller = Controller(Handler(), hostname="127.0.0.1", port=port)
controller.start()
with open(port_file + ".tmp", "w") as f:
    f.write(str(port))
os.rename(port_file + ".tmp", port_file)
try:
    asyncio.get_event_loop().run_until_complete(asyncio.Event().wait())
except KeyboardInterrupt:
    pass
finally:
    controller.stop()
