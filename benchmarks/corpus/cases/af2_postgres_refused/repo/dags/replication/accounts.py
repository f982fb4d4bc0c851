import os
import socket
from urllib.parse import urlsplit


def open_replica() -> socket.socket:
    url = urlsplit(os.environ["CRM_REPLICA_URL"])
    return socket.create_connection((url.hostname, url.port), timeout=5)


def replicate_accounts(ds: str, **_) -> int:
    with open_replica() as conn:
        conn.sendall(b"SELECT * FROM accounts")
        return len(conn.recv(4096))
