"""The environment docker compose gives a container, built from the repository's files.

There is no Docker engine on the test machines, so tests rebuild what compose would do:
the image's ENV lines, then the service's env_file, then its `environment:` (each later one
wins), with compose's `${NAME:-default}` interpolation from the project's .env file.
"""

import re
import shlex
from pathlib import Path

import yaml

BASE_DIR = Path(__file__).resolve().parent.parent.parent
INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}"
)


def load_compose():
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def dockerfile_instructions():
    """(instruction, arguments) pairs of the Dockerfile, continuation lines joined."""
    text = (BASE_DIR / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    for line in joined.splitlines():
        if line.strip():
            instruction, _, arguments = line.strip().partition(" ")
            yield instruction.upper(), arguments.strip()


def image_env():
    """The image's ENV KEY=VALUE pairs."""
    env = {}
    for instruction, arguments in dockerfile_instructions():
        if instruction == "ENV":
            env.update(part.split("=", 1) for part in shlex.split(arguments))
    return env


def build_step(marker):
    """The shell command of the Dockerfile RUN step that contains `marker`."""
    steps = [args for instr, args in dockerfile_instructions() if instr == "RUN" and marker in args]
    assert len(steps) == 1, f"one RUN step with {marker!r} expected, found {len(steps)}"
    return steps[0]


def parse_env_file(text):
    """KEY=VALUE lines as compose reads an env file (comments, quotes, ` #` comments)."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) > 1:
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].rstrip()
        env[key.strip()] = value
    return env


def interpolate(value, variables):
    """Compose's `${NAME}`, `${NAME:-default}`, `${NAME:?error}` and `$$`."""

    def replace(match):
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        current = variables.get(name)
        unset = current is None or (current == "" and op and op.startswith(":"))
        if op and op.endswith("?") and unset:
            raise ValueError(f"compose refuses to start: {arg}")
        if op and op.endswith("-") and unset:
            return arg
        return current or ""

    return INTERPOLATION.sub(replace, value)


def service_env(service, dotenv):
    """The container environment of a compose service: image ENV < env_file < environment."""
    spec = load_compose()["services"][service]
    env = dict(image_env())
    for entry in spec.get("env_file", []):
        path = entry["path"] if isinstance(entry, dict) else entry
        assert path == ".env", "the test knows only the project's .env"
        env.update({k: interpolate(v, dotenv) for k, v in dotenv.items()})
    for key, value in (spec.get("environment") or {}).items():
        env[key] = interpolate(str(value), dotenv)
    return env


def service_command(service, key="command"):
    spec = load_compose()["services"][service]
    value = spec[key] if key == "command" else spec["healthcheck"]["test"]
    return [interpolate(str(part), {}) for part in value]
