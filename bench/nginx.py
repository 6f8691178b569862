"""nginx for the REST pass-through: an upstream that answers like Microsoft Graph, and a proxy.

Each nginx is our own process (``daemon off``, one worker, a configuration, pid file and
temporary folders under the run's work directory, its error log in the logs folder), pinned
with ``taskset`` and stopped by :class:`servers.Processes` like every other server. The system
nginx service is never started.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from servers import Processes, free_port, pinned, wait_ready

ITEMS_PATH = "/items"
UPSTREAM_KEEPALIVE = 32  # idle keep-alive connections the proxy keeps to the upstream
_NAMES = ("Adele Vance", "Alex Wilber", "Diego Siciliani", "Grady Archie", "Isaiah Langer",
          "Johanna Lorenz", "Lee Gu", "Lidia Holloway", "Megan Bowen", "Nestor Wilke")  # fmt: skip
_TITLES = ("Retail Manager", "Marketing Assistant", "HR Manager", "Designer", "Sales Rep")


def graph_items() -> dict[str, Any]:
    """A Microsoft Graph-shaped page of 10 small user objects: ``{"value": [...]}``."""
    value = []
    for index, name in enumerate(_NAMES):
        given, surname = name.split(" ", 1)
        mail = f"{given}{surname[0]}@contoso.example".replace(" ", "")
        value.append(
            {
                "id": f"87d349ed-44d7-43e1-9a83-5f2406dee5{index:02d}",
                "displayName": name,
                "givenName": given,
                "surname": surname,
                "jobTitle": _TITLES[index % len(_TITLES)],
                "mail": mail,
                "userPrincipalName": mail,
                "officeLocation": f"{18 + index}/{2100 + index * 7}",
                "businessPhones": [f"+1 425 555 01{index:02d}"],
            }
        )
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
        "value": value,
    }


def _quoted(text: str) -> str:
    """``text`` as a single-quoted nginx string: no variable is expanded in it."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("$", "${dollar}")
    return f"'{escaped}'"


def _main_block(name: str, work: Path, log: Path) -> tuple[Path, str]:
    """The top of every configuration; returns the server's folder and the text."""
    folder = work / f"nginx-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    # Run as root, nginx would hand the worker to "nobody", who cannot enter the private
    # work directory; keep the worker as the user who runs the benchmark.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"  {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    text = f"""daemon off;
master_process on;
worker_processes 1;
{user}pid {folder / "nginx.pid"};
error_log {log} warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  server_tokens off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
{temp}
"""
    return folder, text


Started = tuple[str, "subprocess.Popen[bytes]"]  # the server's URL, and its master process


def _start(
    name: str, config: str, folder: Path, core: str, procs: Processes, logs: Path, url: str
) -> subprocess.Popen[bytes]:
    conf = folder / "nginx.conf"
    conf.write_text(config)
    log = logs / f"nginx-{name}.log"
    log.write_text("")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    checked = subprocess.run(
        [nginx, "-t", "-q", "-e", str(log), "-p", str(folder), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if checked.returncode != 0:
        raise RuntimeError(f"nginx {name}: bad configuration:\n{checked.stderr}")
    command = pinned(nginx, "-e", log, "-p", folder, "-c", conf, core=core)
    proc = procs.start(command, os.environ, log)
    wait_ready(url, proc, log)
    return proc


def start_upstream(procs: Processes, work: Path, logs: Path, core: str) -> Started:
    """The upstream on ``core``: ``GET /items`` answers :func:`graph_items`."""
    port = free_port()
    folder, config = _main_block("upstream", work, logs / "nginx-upstream.log")
    body = json.dumps(graph_items(), separators=(",", ":"))
    config += f"""  geo $dollar {{ default "$"; }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location = {ITEMS_PATH} {{
      default_type application/json;
      return 200 {_quoted(body)};
    }}
    location / {{ return 404; }}
  }}
}}
"""
    url = f"http://127.0.0.1:{port}"
    return url, _start("upstream", config, folder, core, procs, logs, f"{url}{ITEMS_PATH}")


def start_proxy(procs: Processes, work: Path, logs: Path, core: str, upstream: str) -> Started:
    """A reverse proxy on ``core`` in front of ``upstream`` (keep-alive upstream connections)."""
    port = free_port()
    folder, config = _main_block("proxy", work, logs / "nginx-proxy.log")
    config += f"""  upstream bench_upstream {{
    server {upstream.removeprefix("http://")};
    keepalive {UPSTREAM_KEEPALIVE};
    keepalive_requests 1000000;
  }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""
    url = f"http://127.0.0.1:{port}"
    return url, _start("proxy", config, folder, core, procs, logs, f"{url}{ITEMS_PATH}")
