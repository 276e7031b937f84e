"""Outbound network of researchers' accounts on an isolated embedded node (nftables, by uid).

A researcher's server, kernels and Dask processes may open connections only on loopback, to the
node's services (hub, proxy, airlock, gateway) and to the ephemeral ports where their own kernels'
and LocalClusters' listeners bind; everything else (other machines, DNS, other loopback
addresses, well-known local services) is refused. Replies to connections others opened to them
(the proxy to their server) pass. One table per node, ``inet tresor_<node>``, replaced atomically.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from tresor.core.errors import ConfigError

EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")


def table_name(node: str) -> str:
    return "tresor_" + node.replace("-", "_")


def available() -> str | None:
    """None if nftables can be used here, else why not."""
    if shutil.which("nft") is None:
        return "nft is not installed (apt-get install -y nftables)"
    probe = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"nft cannot change the firewall here: {probe.stderr.strip()}"
    return None


def ephemeral_range() -> tuple[int, int]:
    low, high = EPHEMERAL_PORTS.read_text().split()
    return int(low), int(high)


def ruleset(node: str, uids: Iterable[int], service_ports: Iterable[int]) -> str:
    """The node's table as an ``nft -f`` script: created, emptied, filled in one transaction."""
    table = table_name(node)
    uid_list = ", ".join(str(u) for u in sorted(set(uids))) or "0"
    ports = ", ".join(str(p) for p in sorted(set(service_ports)))
    low, high = ephemeral_range()
    return f"""
table inet {table} {{}}
delete table inet {table}
table inet {table} {{
    set researchers {{
        type uid
        elements = {{ {uid_list} }}
    }}
    chain output {{
        type filter hook output priority 0; policy accept;
        meta skuid @researchers jump researcher_out
    }}
    chain researcher_out {{
        ct state established,related accept
        oifname "lo" ip daddr 127.0.0.1 tcp dport {{ {ports} }} accept
        oifname "lo" ip daddr 127.0.0.1 meta l4proto {{ tcp, udp }} th dport {low}-{high} accept
        oifname "lo" ip6 daddr ::1 meta l4proto {{ tcp, udp }} th dport {low}-{high} accept
        counter reject
    }}
}}
"""


def apply(node: str, uids: Iterable[int], service_ports: Iterable[int]) -> None:
    """Install (or replace) the node's rules."""
    script = ruleset(node, uids, service_ports)
    done = subprocess.run(["nft", "-f", "-"], input=script, capture_output=True, text=True)
    if done.returncode != 0:
        raise ConfigError(f"nft refused the node's firewall rules: {done.stderr.strip()}")


def add_researcher(node: str, uid: int) -> None:
    """Put one more account under the rules (a hub user made after the node started)."""
    done = subprocess.run(
        ["nft", "add", "element", "inet", table_name(node), "researchers", f"{{ {uid} }}"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise ConfigError(f"nft could not add uid {uid} to the node's rules: {done.stderr}")


def remove(node: str) -> None:
    subprocess.run(
        ["nft", "delete", "table", "inet", table_name(node)], capture_output=True, check=False
    )
