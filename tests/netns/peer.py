# The network ends of the firewall tests, run inside the tests' namespaces.
#   serve PORT                  TCP: answer each connection with the caller's address
#   udplog PORT FILE            UDP: append each datagram's source address to FILE
#   connect HOST PORT [TRIES]   print what the server answered; exit 1 without an answer
#   udp HOST PORT SOURCE        send one datagram from SOURCE (an address of this host)
#   arp IFACE ETH_SRC SENDER_MAC SENDER_IP TARGET_IP
#                               send one raw ARP request (gratuitous when the IPs match)
import socket
import sys


def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    print("serving", flush=True)
    while True:
        c, peer = s.accept()
        c.sendall(peer[0].encode())
        c.close()


def udplog(port, path):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    print("serving", flush=True)
    while True:
        _, peer = s.recvfrom(2048)
        with open(path, "a") as log:
            log.write(peer[0] + "\n")


def connect(host, port, tries):
    for _ in range(tries):
        try:
            with socket.create_connection((host, port), timeout=1) as s:
                s.settimeout(1)
                print(s.recv(64).decode())
                return 0
        except OSError:
            pass
    return 1


def udp(host, port, source):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    s.sendto(b"spoofed", (host, port))


def arp(iface, eth_src, sender_mac, sender_ip, target_ip):
    mac = lambda text: bytes.fromhex(text.replace(":", ""))
    frame = (b"\xff" * 6 + mac(eth_src) + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04\x00\x01" +
             mac(sender_mac) + socket.inet_aton(sender_ip) + b"\x00" * 6 +
             socket.inet_aton(target_ip))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.send(frame)


verb, args = sys.argv[1], sys.argv[2:]
if verb == "serve":
    serve(int(args[0]))
elif verb == "udplog":
    udplog(int(args[0]), args[1])
elif verb == "connect":
    sys.exit(connect(args[0], int(args[1]), int(args[2]) if len(args) > 2 else 1))
elif verb == "udp":
    udp(args[0], int(args[1]), args[2])
elif verb == "arp":
    arp(*args)
else:
    sys.exit("unknown verb " + verb)
