"""The production shape: docker-compose.yml, the Dockerfile and the proxy agree
with the project they deploy.

No Docker is needed: the files are read and every name they use (services,
management commands, server entry points, files) is checked against the repo.
"""

import fnmatch
import importlib
import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

APP_SERVICES = ["migrate", "web", "ws", "worker", "scheduler"]
# `module.path:attribute`, as gunicorn and daphne take it; an address such as
# 0.0.0.0:8000 does not match.
ENTRY_POINT = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")


def repo() -> Path:
    return Path(settings.BASE_DIR)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((repo() / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (repo() / "Dockerfile").read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


@pytest.fixture(scope="module")
def image_cmd(dockerfile) -> list[str]:
    cmds = [arguments for keyword, arguments in dockerfile if keyword == "CMD"]
    assert len(cmds) == 1
    return json.loads(cmds[0])


@pytest.fixture(scope="module")
def nginx_conf(services) -> str:
    mounts = [volume.split(":") for volume in services["proxy"]["volumes"]]
    sources = [source for source, *_ in mounts if source.endswith("nginx.conf")]
    assert len(sources) == 1
    return (repo() / sources[0]).read_text()


def command_of(service: dict, image_cmd: list[str]) -> list[str]:
    """The argv a service runs; the project image's CMD unless it says otherwise."""
    command = service.get("command", image_cmd if "build" in service else [])
    return command.split() if isinstance(command, str) else command


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps path (or a folder above it) out of the image."""
    patterns = [
        line.strip()
        for line in (repo() / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = Path(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        anywhere = pattern.startswith("**/")
        pattern = pattern.removeprefix("**/")
        for prefix in prefixes:
            candidates = [prefix] + ([prefix.split("/")[-1]] if anywhere else [])
            if any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates):
                return True
    return False


def nginx_block(conf: str, opening: str) -> str:
    """The body of the first `opening { ... }` block (blocks here do not nest)."""
    match = re.search(re.escape(opening) + r"\s*\{(.*?)\}", conf, re.S)
    assert match, f"no `{opening}` block in nginx.conf"
    return match.group(1)


def upstream_server(conf: str, location: str) -> tuple[str, int]:
    """The host and port that a location's proxy_pass upstream points at."""
    body = nginx_block(conf, f"location {location}")
    upstream = re.search(r"proxy_pass\s+http://([\w-]+)\s*;", body).group(1)
    server = re.search(r"server\s+([\w-]+):(\d+)", nginx_block(conf, f"upstream {upstream}"))
    host, port = server.groups()
    return host, int(port)


def test_every_service_of_the_production_shape_exists(services):
    expected = {"web", "ws", "migrate", "worker", "scheduler", "proxy", "db", "redis"}
    assert expected <= services.keys()
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["proxy"]["image"].startswith("nginx:")


def test_app_services_run_the_project_image_with_secrets_from_the_env_file(services):
    assert (repo() / ".env.example").is_file()
    for name in APP_SERVICES:
        service = services[name]
        assert service["build"] == "."
        env_files = service["env_file"]
        assert (env_files if isinstance(env_files, list) else [env_files]) == [".env"]
        assert "DJANGO_SECRET_KEY" not in service.get("environment", {})
    assert (repo() / "Dockerfile").is_file()


def test_env_example_sets_every_variable_compose_requires():
    """`cp .env.example .env` gives a compose file that interpolates."""
    required = set(re.findall(r"\$\{(\w+):\?", (repo() / "docker-compose.yml").read_text()))
    assigned = {
        line.split("=", 1)[0].strip()
        for line in (repo() / ".env.example").read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    assert required and required <= assigned


def test_migrations_run_once_before_the_servers_start(services, image_cmd):
    migrating = [
        name
        for name, service in services.items()
        if "migrate" in command_of(service, image_cmd)
        and "manage.py" in command_of(service, image_cmd)
    ]
    assert migrating == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("web", "ws"):
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on["db"]["condition"] == "service_healthy"


def test_database_and_redis_have_health_checks_and_the_database_a_named_volume(compose, services):
    db, redis = services["db"], services["redis"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]


def test_only_the_proxy_publishes_a_port_so_servers_scale(services):
    published = [name for name, service in services.items() if "ports" in service]
    assert published == ["proxy"]
    for name in ("web", "ws"):
        assert "container_name" not in services[name]


def test_every_management_command_named_is_real():
    text = (repo() / "docker-compose.yml").read_text() + (repo() / "Dockerfile").read_text()
    named = set(re.findall(r"manage\.py[\"',\s]+([a-z_]+)", text))
    assert {"migrate", "compiletranslations", "collectstatic", "db_worker", "crontask"} <= named
    assert named <= get_commands().keys()


def test_server_entry_points_import(services, image_cmd):
    commands = [image_cmd] + [command_of(services[name], image_cmd) for name in APP_SERVICES]
    entry_points = {arg for command in commands for arg in command if ENTRY_POINT.match(arg)}
    assert entry_points == {"config.wsgi:application", "config.asgi:application"}
    for entry_point in entry_points:
        module, attribute = entry_point.split(":")
        assert callable(getattr(importlib.import_module(module), attribute))


def test_pages_go_to_gunicorn_and_websockets_to_daphne(services, image_cmd):
    assert image_cmd[0] == "gunicorn" and "0.0.0.0:8000" in image_cmd
    assert "command" not in services["web"]
    ws = services["ws"]["command"]
    assert ws[0] == "daphne"
    assert ws[ws.index("--port") + 1] == "8001"


def test_proxy_routes_websockets_with_upgrade_headers_and_the_rest_to_web(nginx_conf):
    assert upstream_server(nginx_conf, "/ws/") == ("ws", 8001)
    assert upstream_server(nginx_conf, "/") == ("web", 8000)
    websocket = nginx_block(nginx_conf, "location /ws/")
    assert re.search(r"proxy_http_version\s+1\.1;", websocket)
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade;", websocket)
    assert re.search(r"proxy_set_header\s+Connection\s+\"?upgrade\"?;", websocket)
    for location in ("/ws/", "/"):
        body = nginx_block(nginx_conf, f"location {location}")
        assert re.search(r"proxy_set_header\s+X-Forwarded-Proto\s+\S+;", body)
        assert re.search(r"proxy_set_header\s+Host\s+\$host;", body)


def test_servers_are_health_checked_on_healthz(services):
    script = "deploy/healthcheck.py"
    assert "/healthz" in (repo() / script).read_text()
    for name, port in (("web", "8000"), ("ws", "8001")):
        assert services[name]["healthcheck"]["test"] == ["CMD", "python", script, port]


def test_health_check_sends_a_host_django_allows(monkeypatch):
    spec = importlib.util.spec_from_file_location("healthcheck", repo() / "deploy/healthcheck.py")
    healthcheck = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(healthcheck)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "*, .shukang.example,www.shukang.example")
    assert healthcheck.allowed_host() == "shukang.example"
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "")
    assert healthcheck.allowed_host() == "localhost"


def test_image_installs_requirements_and_builds_assets_without_baked_secrets(dockerfile):
    keywords = [keyword for keyword, _ in dockerfile]
    assert dockerfile[0] == ("FROM", "python:3.13-slim")
    copies = [arguments.split() for keyword, arguments in dockerfile if keyword == "COPY"]
    assert copies[0] == ["requirements.txt", "."]
    runs = " ".join(arguments for keyword, arguments in dockerfile if keyword == "RUN")
    assert "pip install -r requirements.txt" in runs
    assert "compiletranslations" in runs and "collectstatic --noinput" in runs
    for keyword, arguments in dockerfile:
        if keyword in ("ENV", "ARG"):
            assert "SECRET" not in arguments
    user = [arguments for keyword, arguments in dockerfile if keyword == "USER"]
    assert user and user[-1] not in ("root", "0")
    assert keywords.index("USER") < keywords.index("CMD")
    assert dockerignored(".env") and dockerignored(".git/config")


def test_files_the_containers_use_exist_and_reach_the_image(services, image_cmd):
    used = {"manage.py", "requirements.txt", "config/wsgi.py", "config/asgi.py"}
    for service in services.values():
        for arg in command_of(service, image_cmd) + service.get("healthcheck", {}).get("test", []):
            if arg.endswith(".py"):
                used.add(arg)
    assert "deploy/healthcheck.py" in used
    for path in sorted(used):
        assert (repo() / path).is_file(), path
        assert not dockerignored(path), path


def test_background_work_runs_on_a_scalable_worker_and_a_real_scheduler(services):
    worker, scheduler = services["worker"], services["scheduler"]
    assert worker["command"][:3] == ["python", "manage.py", "db_worker"]
    assert "--reload" not in worker["command"]
    assert scheduler["command"] == ["python", "manage.py", "crontask"]
    for service in (worker, scheduler):
        # Scalable, and alive while Redis is down: only the database is needed.
        assert "container_name" not in service and "ports" not in service
        assert "redis" not in service["depends_on"]
        assert not any("while" in part for part in service["command"])


def test_servers_start_while_redis_is_unwell(services):
    # Redis is an accelerator: pages and writes work without it.
    for name in ("web", "ws"):
        assert services[name]["depends_on"]["redis"]["condition"] == "service_started"
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"


def test_reports_live_on_a_private_volume_that_web_worker_and_proxy_share(
    services, nginx_conf, dockerfile
):
    """Web stores and authorises, the worker makes safe, nginx sends: one volume."""

    def mounts(name):
        return {v.split(":")[1]: v.split(":")[0] for v in services[name].get("volumes", [])}

    root = services["web"]["environment"]["SHUKANG_PRIVATE_ROOT"]
    for name in ("web", "worker"):
        assert mounts(name).get(root) == "private"
        assert services[name]["environment"]["SHUKANG_PRIVATE_ROOT"] == root
    assert mounts("proxy")[root] == "private"
    assert any(v.endswith(f"{root}:ro") for v in services["proxy"]["volumes"])
    # Django answers with X-Accel-Redirect to an internal location over that folder.
    prefix = services["web"]["environment"]["SHUKANG_ATTACHMENTS_ACCEL_PREFIX"]
    block = nginx_block(nginx_conf, f"location {prefix}")
    assert re.search(r"^\s*internal;", block, re.M)
    alias = re.search(r"alias\s+(\S+);", block).group(1)
    assert alias.rstrip("/") == f"{root}/attachments"
    # The worker reads the photos with Tesseract in Simplified Chinese and English.
    installs = " ".join(arguments for keyword, arguments in dockerfile if keyword == "RUN")
    assert "tesseract-ocr" in installs and "tesseract-ocr-chi-sim" in installs
    # Only the forms that take photos accept large bodies.
    assert re.search(r"client_max_body_size\s+1m;", nginx_conf)
