"""From login to a running kernel on the embedded node (issue 19's target: under 5 s).

A real local node (hub, proxy, airlock; as ``tresor node start`` runs it) in a temporary
directory; for each round, researcher1 has no server: the hub's login form is posted, their
server started (the data use terms accepted, as the spawn page's checkbox does), a "tresor
(genomics)" kernel started and a cell run in it. Each phase's time is printed, and the total.

    .venv/bin/python -m benchmarks.bench_login_kernel [--rounds 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

import httpx

TARGET = 5.0


def login(node, user: str) -> None:
    """Post the hub's login form as a browser does (its XSRF token from the form's page)."""
    with httpx.Client(base_url=node.url, follow_redirects=False, timeout=60) as client:
        page = client.get("hub/login")
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
        form = {"username": user, "password": node.passwords[user], "_xsrf": xsrf}
        r = client.post("hub/login", data=form)
        assert r.status_code == 302, f"login refused ({r.status_code})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from tests.hub.node import LocalNode, open_directory

    user = "researcher1"
    totals = []
    with open_directory("tresor-bench-") as directory:
        node = LocalNode.create(directory)
        node.start()
        try:
            token = node.user_token(user)
            for n in range(args.rounds):
                if node.api("GET", f"/users/{user}").json().get("servers"):
                    node.stop_server(user)
                t0 = time.perf_counter()
                login(node, user)
                t1 = time.perf_counter()
                node.start_server(user)
                t2 = time.perf_counter()
                out = node.run_in_kernel(user, token, "print(6 * 7)")
                t3 = time.perf_counter()
                assert out == {"stdout": "42\n", "error": None}, out
                totals.append(t3 - t0)
                print(
                    f"round {n + 1}: login {t1 - t0:.2f} s, server {t2 - t1:.2f} s, "
                    f"kernel and first cell {t3 - t2:.2f} s, total {t3 - t0:.2f} s"
                )
        finally:
            node.stop()
    median = statistics.median(totals)
    verdict = "within" if median < TARGET else "over"
    print(f"login to a running kernel: median {median:.2f} s ({verdict} the {TARGET:.0f} s target)")


if __name__ == "__main__":
    main()
